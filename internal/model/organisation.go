package model

import "time"

// Organisation types of Organisaatiopalvelu (organisaatiotyyppi).
const (
	OrgTypeEducationProvider      = "organisaatiotyyppi_01" // koulutustoimija
	OrgTypeSchool                 = "organisaatiotyyppi_02" // oppilaitos
	OrgTypeOffice                 = "organisaatiotyyppi_03" // toimipiste
	OrgTypeEarlyEducationProvider = "organisaatiotyyppi_07" // varhaiskasvatuksen järjestäjä
	OrgTypeEarlyEducationUnit     = "organisaatiotyyppi_08" // varhaiskasvatuksen toimipaikka
	OrgTypeOther                  = "organisaatiotyyppi_09" // muu organisaatio
)

// RootOID is the OID of the Finnish National Agency for Education (OPH), the
// root of the registry and the admin organisation of the management service.
const RootOID = "1.2.246.562.10.00000000001"

// OrgStatus is an organisation's status in the registry.
type OrgStatus string

const (
	OrgActive  OrgStatus = "AKTIIVINEN"
	OrgPassive OrgStatus = "PASSIIVINEN"
	OrgPlanned OrgStatus = "SUUNNITELTU"
)

// LocalizedName is a name in Finnish, Swedish and English; any may be empty.
type LocalizedName struct {
	Fi string `json:"fi,omitempty"`
	Sv string `json:"sv,omitempty"`
	En string `json:"en,omitempty"`
}

// In returns the name in lang ("fi", "sv", "en"), falling back fi -> sv -> en.
func (n LocalizedName) In(lang string) string {
	switch lang {
	case "sv":
		if n.Sv != "" {
			return n.Sv
		}
	case "en":
		if n.En != "" {
			return n.En
		}
	}
	switch {
	case n.Fi != "":
		return n.Fi
	case n.Sv != "":
		return n.Sv
	}
	return n.En
}

// Organisation is one node of the national organisation registry: an
// education provider, a school, an office, an early-education unit or other.
type Organisation struct {
	OID       string `json:"oid"`
	ParentOID string `json:"parentOid,omitempty"`
	// ParentOIDPath lists the ancestors from the root down, without the
	// organisation itself.
	ParentOIDPath []string      `json:"parentOidPath,omitempty"`
	Name          LocalizedName `json:"name"`
	BusinessID    string        `json:"businessId,omitempty"`
	Types         []string      `json:"types,omitempty"`
	// SchoolCode is the 5-digit oppilaitosnumero of a school.
	SchoolCode string `json:"schoolCode,omitempty"`
	// InstitutionType is the oppilaitostyyppi code (11, 15, 21, ...), 0 if none.
	InstitutionType int `json:"institutionType,omitempty"`
	// OfficeCode is the 7-digit toimipistekoodi of an office.
	OfficeCode       string     `json:"officeCode,omitempty"`
	MunicipalityCode string     `json:"municipalityCode,omitempty"`
	Languages        []string   `json:"languages,omitempty"`
	Status           OrgStatus  `json:"status"`
	StartDate        *time.Time `json:"startDate,omitempty"`
	EndDate          *time.Time `json:"endDate,omitempty"`
}

// HasType reports whether the organisation has the organisation type t.
func (o *Organisation) HasType(t string) bool {
	for _, x := range o.Types {
		if x == t {
			return true
		}
	}
	return false
}

// IsActive reports whether the organisation is active in the registry.
func (o *Organisation) IsActive() bool { return o.Status == OrgActive }

// IsSchool reports whether the organisation is a school (oppilaitos).
func (o *Organisation) IsSchool() bool { return o.HasType(OrgTypeSchool) }

// IsOffice reports whether the organisation is an office or an
// early-education unit, which resolve to their parent school.
func (o *Organisation) IsOffice() bool {
	return o.HasType(OrgTypeOffice) || o.HasType(OrgTypeEarlyEducationUnit)
}

// IsEducationProvider reports whether the organisation is an education
// provider (koulutustoimija) or an early-education provider.
func (o *Organisation) IsEducationProvider() bool {
	return o.HasType(OrgTypeEducationProvider) || o.HasType(OrgTypeEarlyEducationProvider)
}

// SyncRun records one synchronisation of the registry with Organisaatiopalvelu.
type SyncRun struct {
	ID         int64      `json:"id"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt,omitempty"`
	// Outcome is "ok", "unchanged" or "failed".
	Outcome string `json:"outcome"`
	Added   int    `json:"added"`
	Changed int    `json:"changed"`
	Removed int    `json:"removed"`
	Total   int    `json:"total"`
	// Error says why a failed run kept the last good data.
	Error string `json:"error,omitempty"`
}

// Sync outcomes.
const (
	SyncOK        = "ok"
	SyncUnchanged = "unchanged"
	SyncFailed    = "failed"
)
