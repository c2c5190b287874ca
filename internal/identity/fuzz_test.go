package identity

import (
	"strings"
	"testing"
)

// FuzzBuild feeds arbitrary upstream values through Build and both
// releases: it must never panic, a released role value always has exactly
// seven fields (four in the legacy form), and no drop echoes the username.
func FuzzBuild(f *testing.F) {
	f.Add("oppilas1", "30076", "student", "9F", "9", "1", "1.2.246.562.24.20000000018", "")
	f.Add("x", "30076;30079", "teacher;student", "9F;7A", "11", "0;1", "", "1010501")
	f.Add("y", ";;", ";", ";;;", "-1", "2", "1.2.246.562.98.1", "1.2.246.562.99.00000000012")
	f.Add("", "1.2.246.562.99.00000000001", "Rehtori", "", "", "", "1.2.246.562.24.1", "abc")
	f.Add("z", "30078;12345;30080", "principal", "a;b", "9;9", "1;1;1", "", "3007601")
	l := testLookup(f)
	idp := testIdP()
	f.Fuzz(func(t *testing.T, username, schools, roles, groups, levels, charges, learnerID, extraSchool string) {
		raw := Raw{
			"username":                 {"u#" + username},
			"schoolIds":                {schools, extraSchool},
			"roles":                    {roles},
			"groups":                   {groups},
			"groupLevels":              {levels},
			"learningMaterialsCharges": {charges},
			"learnerId":                {learnerID},
			"firstName":                {username},
		}
		res, err := Build(Input{IdP: idp, Raw: raw, Registry: l})
		if err != nil {
			if res.User != nil {
				t.Fatal("user with an error")
			}
			return
		}
		if !uidFormat.MatchString(res.User.UID) {
			t.Fatalf("uid %q", res.User.UID)
		}
		for _, d := range res.Dropped {
			if d.Reason == "" || d.Message == "" || strings.Contains(d.Message, "u#") {
				t.Fatalf("drop %+v", d)
			}
		}
		for _, legacy := range []bool{false, true} {
			want := 6
			if legacy {
				want = 3
			}
			rel := Release{Legacy: legacy, AllowTestLearnerID: legacy}
			for _, v := range values(SAMLAttributes(res.User, rel), "urn:mpass.id:role") {
				if strings.Count(v, ";") != want {
					t.Fatalf("role %q (legacy %v)", v, legacy)
				}
			}
			if c, ok := OIDCClaims(res.User, rel)["urn:mpass.id:role"]; ok {
				for _, v := range c.([]string) {
					if strings.Count(v, ";") != want {
						t.Fatalf("role claim %q", v)
					}
				}
			}
		}
	})
}
