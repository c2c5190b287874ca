// Package model holds the plain domain types of the broker and the management
// service: organisations and schools from the national registry, integrations
// (identity providers, services and service sets) as the management service keeps
// them, and the user of the MPASSid data model 1.4.
//
// The package does no I/O. Its types are shared by every other package, so they
// stay plain: validation that needs the registry or the store lives elsewhere.
package model
