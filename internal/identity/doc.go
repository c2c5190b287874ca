// Package identity turns what a school's login source says about a user into
// the MPASSid data model 1.4 user, and decides what of that user a service
// receives. It is the heart of the broker and does no I/O: Build is a pure
// function of the upstream attributes, the identity-provider integration's
// configuration, the organisation registry and a Policy; SAMLAttributes and
// OIDCClaims are pure functions of the built user and a Release.
//
// Why it is strict: services make decisions on these values (which school's
// materials a pupil sees, whether they are charged for them, which class they
// are put in), so nothing half-true is released. A role whose school is
// unknown or closed, whose role name is not allowed, or whose upstream data
// do not line up is left out entirely, together with everything derived from
// it, rather than released with a guessed part. Every such decision is
// recorded as a Drop with a reason code and a message an education provider's
// administrator can act on ("school 30076 is not active in the registry:
// role not released"). Drops never carry personal data: no names, usernames, learner
// ids or raw upstream values other than school codes and organisation OIDs,
// so they can be logged and shown as they are.
//
// Only two kinds of input make a login fail (Build returns an error and no
// user): no single username (ErrNoUsername, ErrAmbiguousUsername), because
// without it there is no stable identifier, and a malformed learner id
// (ErrBadLearnerID), because a wrong national learner number attached to a
// pupil is worse than no login. ErrConfig reports a misconfigured call.
// Errors name the integration's idpId, never the user.
//
// # Readings of points the data model leaves open
//
// Source names. An IdP integration maps source names (username, roles, ...)
// to upstream attribute names with its "user" attributes; a source with no
// mapping reads the upstream attribute of the source's own name. Multi-valued
// sources (schoolIds, roles, groups, learningMaterialsCharges, groupLevels)
// accept several values, one value with ";"-separated parts (as Entra ID,
// ADFS and Google send them), or both; parts are trimmed, and a position
// that is empty keeps its place so that the lists still line up.
//
// schoolIdStatic is configuration, not an upstream attribute: the content of
// the integration's schoolIdStatic user attribute is itself a school code or
// organisation OID (several may be ";"-separated) that every user of the
// source gets when the upstream schoolIds are empty. It is never read from
// the upstream attributes, so a user cannot choose their "static" school.
//
// customStudentRole and customTeacherRole are configuration too: the
// upstream role value (";"-separated if several) that means Oppilas or
// Opettaja for this source, compared case-insensitively before the Policy's
// role-name table. studentGroupGuid and teacherGroupGuid are read the same
// way: an Entra ID group object id that, when it arrives as a roles value,
// means Oppilas or Opettaja. Deriving a role from a separate group-membership
// claim (Entra ID's groups claim next to the roles) is not done.
//
// legacyId has no documented meaning in data model 1.4: it is not read, not
// released and in particular not used to carry over a uid.
//
// The class level (groupLevels, a single value 0-10) belongs to the first
// upstream role only: it is released when that role was kept, is Oppilas, and
// its school is a comprehensive school (institution type 11 peruskoulut, 12
// peruskouluasteen erityiskoulut or 19 perus- ja lukioasteen koulut by
// default, Policy.ClassLevelInstitutionTypes). If the first role was dropped
// the class level is dropped too; it does not move to another school.
//
// School ids are 5-digit school codes, organisation OIDs and, as a small
// extension, 7-digit office codes (toimipistekoodi). An office or
// early-education unit resolves to its parent school; the office's OID and
// name are kept for field 7 of the role and for schoolInfo.
//
// Legacy release (data model 1.3): the 1.3 attributes are added, and
// urn:mpass.id:role carries the 1.3 four-field form
// providerOid;schoolCode;group;roleName instead of the seven-field form. Both
// forms share one attribute name, and the 1.3 fixture of the national service
// releases only the four-field form there, so a service switched to legacy
// receives exactly what it was written against. Every 1.4 attribute keeps its
// 1.4 form (schoolInfo also lists the schoolOid;schoolName pairs, which a
// 1.3 reader of "id;name" values can skip). urn:mpass.id:municipalityCode
// (FriendlyName mpassMunicipalityCode, by analogy: no example shows it) is
// released when Release.Registry is given. urn:mpass.id:municipality
// (the municipality's name) is not released: the registry has no municipality
// names. urn:mpass.id:role_v1.1 is not released either (it needs the same
// name).
//
// OIDC scopes: Release.Scopes nil means no filtering. With "profile" among the
// scopes a service gets every claim, as the national service does for
// "openid profile"; without it (plain "openid") it gets none of the data
// model's claims, only what the caller adds (sub).
package identity
