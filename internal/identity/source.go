package identity

import (
	"fmt"
	"strings"

	"github.com/mpassid/mpassid/internal/model"
)

// Raw holds the upstream attributes of one login, by upstream attribute name.
// A value list may hold several values, or one value with ";"-separated parts.
type Raw map[string][]string

// Source names of the data model ("user attributes" of an IdP integration).
const (
	SourceUsername                 = "username"
	SourceFirstName                = "firstName"
	SourceSurname                  = "surname"
	SourceNickname                 = "nickname"
	SourceLearnerID                = "learnerId"
	SourceRoles                    = "roles"
	SourceGroups                   = "groups"
	SourceGroupLevels              = "groupLevels"
	SourceSchoolIDs                = "schoolIds"
	SourceSchoolIDStatic           = "schoolIdStatic"
	SourceLearningMaterialsCharges = "learningMaterialsCharges"
	SourceCustomStudentRole        = "customStudentRole"
	SourceCustomTeacherRole        = "customTeacherRole"
	SourceStudentGroupGUID         = "studentGroupGuid"
	SourceTeacherGroupGUID         = "teacherGroupGuid"
	SourceLegacyID                 = "legacyId"
)

// Mapping maps a source name to the upstream attribute name it is read from.
// For the configuration sources (schoolIdStatic, customStudentRole,
// customTeacherRole, studentGroupGuid, teacherGroupGuid) the content is the
// configured value itself; see the package documentation.
type Mapping map[string]string

// MappingOf collects the "user" attributes of an integration into a Mapping.
// Attributes of other types are ignored; when a source name is given twice
// the first wins.
func MappingOf(attrs []model.Attribute) Mapping {
	m := make(Mapping)
	for _, a := range attrs {
		if a.Type != model.AttributeUser || a.Name == "" {
			continue
		}
		if _, dup := m[a.Name]; !dup {
			m[a.Name] = a.Content
		}
	}
	return m
}

// IdPConfig is what Build needs of the identity-provider integration that
// authenticated the user.
type IdPConfig struct {
	// IdPID is the integration's technical id (wilma_en); it is hashed into
	// the uid.
	IdPID string
	// FlowName becomes model.User.Source.
	FlowName string
	// OrganisationOID is the education provider owning the integration; it
	// is released as urn:mpass.id:originalIssuer.
	OrganisationOID string
	Mapping         Mapping
}

// IdPConfigOf reads an IdPConfig from an IdP integration.
func IdPConfigOf(in *model.Integration) (IdPConfig, error) {
	if in == nil || in.IdP == nil {
		return IdPConfig{}, fmt.Errorf("identity: %w: not an identity-provider integration", ErrConfig)
	}
	return IdPConfig{
		IdPID:           in.IdP.IdPID,
		FlowName:        in.IdP.FlowName,
		OrganisationOID: in.OrganisationOID,
		Mapping:         MappingOf(in.Attributes),
	}, nil
}

// upstream returns the upstream attribute name a source is read from.
func (c *IdPConfig) upstream(source string) string {
	if n := strings.TrimSpace(c.Mapping[source]); n != "" {
		return n
	}
	return source
}

// multi reads a multi-valued source: every value split at ";", each part
// trimmed. Positions are kept (an empty part stays as ""), but a source whose
// parts are all empty has no values.
func (c *IdPConfig) multi(raw Raw, source string) []string {
	return splitParts(raw[c.upstream(source)])
}

func splitParts(vals []string) []string {
	n, nonEmpty := 0, false
	for _, v := range vals {
		n += strings.Count(v, ";") + 1
		if strings.Trim(v, "; \t\r\n") != "" {
			nonEmpty = true
		}
	}
	if !nonEmpty {
		return nil
	}
	out := make([]string, 0, n)
	for _, v := range vals {
		for {
			i := strings.IndexByte(v, ';')
			if i < 0 {
				out = append(out, strings.TrimSpace(v))
				break
			}
			out = append(out, strings.TrimSpace(v[:i]))
			v = v[i+1:]
		}
	}
	return out
}

// single reads a single-valued source: its first non-empty value, trimmed,
// and whether the upstream sent more than one distinct non-empty value.
func (c *IdPConfig) single(raw Raw, source string) (v string, ambiguous bool) {
	return singleOf(raw[c.upstream(source)], false)
}

// singleOf returns the first non-empty value of vals (trimmed unless keep)
// and whether another, different non-empty value follows.
func singleOf(vals []string, keep bool) (v string, ambiguous bool) {
	for _, x := range vals {
		t := strings.TrimSpace(x)
		if t == "" {
			continue
		}
		if !keep {
			x = t
		}
		if v == "" {
			v = x
		} else if x != v {
			return v, true
		}
	}
	return v, false
}

// configured reads a configuration source: the mapping's content itself,
// split at ";" and trimmed, without empty parts.
func (c *IdPConfig) configured(source string) []string {
	s := c.Mapping[source]
	if strings.TrimSpace(s) == "" {
		return nil
	}
	var out []string
	for p := range strings.SplitSeq(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
