// Package fakeopas is a fake Organisaatiopalvelu (the national organisation
// registry) that serves generated data in the real JSON shapes.
//
// Why: no network reaches the real registry from development and CI
// machines, and a sync must be tested against the things a real registry
// does on a bad day (500s, hangs, truncated or empty answers, organisations
// vanishing) and at national scale. Generate makes a deterministic dataset
// (SizeNational: about 15,000 organisations with Finnish-sounding names,
// unique 5-digit school codes, 7-digit office codes and valid-looking OIDs
// and business ids; SizeSmall for unit tests; SizeDemo for `mpassid dev`),
// Handler serves it, and the Dataset's methods and Faults change it between
// syncs.
//
// The JSON is written from scratch here, independently of the parser in
// package registry, following the real answers: nested children with their
// copy in subRows, parentOidPath as "self/parent/.../root" in hierarkia
// answers and "|root|...|parent|" in detail answers, koodisto URIs with a
// version suffix ("oppilaitostyyppi_11#1"), epoch-millisecond dates in
// hierarchies and "YYYY-MM-DD" in details.
package fakeopas
