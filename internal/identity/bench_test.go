package identity

import "testing"

func teacher5Input(b *testing.B) Input {
	return Input{IdP: testIdP(), Registry: testLookup(b), Raw: Raw{
		"username": {piiUsername}, "firstName": {piiGiven}, "surname": {piiSurname},
		"learnerId": {piiLearnerID},
		"schoolIds": {"30076;30077;30079;30081;1010501"}, "roles": {"Teacher"}, "groups": {"9F"},
	}}
}

// BenchmarkBuildTeacher5Schools is the login path: a teacher at five
// schools, resolved in the registry.
func BenchmarkBuildTeacher5Schools(b *testing.B) {
	in := teacher5Input(b)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Build(in)
		if err != nil || len(res.User.Roles) != 5 {
			b.Fatal(err)
		}
	}
}

func BenchmarkSAMLAttributesTeacher5Schools(b *testing.B) {
	u := teacher5(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(SAMLAttributes(u, Release{})) == 0 {
			b.Fatal("nothing")
		}
	}
}

func BenchmarkOIDCClaimsTeacher5Schools(b *testing.B) {
	u := teacher5(b)
	b.ReportAllocs()
	for b.Loop() {
		if len(OIDCClaims(u, Release{})) == 0 {
			b.Fatal("nothing")
		}
	}
}
