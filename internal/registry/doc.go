// Package registry keeps MPASSid's copy of the national organisation
// registry (Organisaatiopalvelu, run by the Finnish National Agency for
// Education) and answers the questions the login path asks of it.
//
// Why a local copy: every login resolves the school codes an identity source
// sends into school, provider and office names and OIDs. Asking
// Organisaatiopalvelu on the login path would make logins as slow and as
// available as a remote service we do not run, so MPASSid syncs the whole
// national tree (10,000-20,000 organisations) once a day at 07:00 Finnish
// time, stores it (package store) and serves lookups from an immutable
// in-memory index that is swapped atomically after each sync.
//
// The pieces:
//
//   - Client fetches and parses the registry (GET hierarkia/hae, GET <oid>)
//     with a Caller-Id, gzip, a body-size cap, a per-request timeout and
//     bounded retries with jittered exponential backoff.
//   - Syncer runs one sync under the cluster-wide lock "orgsync", and refuses
//     to replace good data with a failed, truncated, empty or suspiciously
//     shrunken answer: a failed sync keeps yesterday's registry, which is
//     always better than a half-empty one.
//   - NextRun and Scheduler run the Syncer daily at a wall-clock time that
//     stays right across daylight-saving changes.
//   - Lookup and Registry are the allocation-free index used on the login
//     path.
//
// Subpackage fakeopas is a deterministic fake Organisaatiopalvelu for tests,
// benchmarks and `mpassid dev`.
package registry
