package admin

import "testing"

// FuzzParseCASResponse: the CAS validation answer comes from another
// server; no input may panic, and a success always names a user.
func FuzzParseCASResponse(f *testing.F) {
	f.Add([]byte(`<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationSuccess><cas:user>u</cas:user><cas:attributes><cas:roles>APP_MPASSID_KATSELIJA_1.2.246.562.10.1</cas:roles></cas:attributes></cas:authenticationSuccess></cas:serviceResponse>`))
	f.Add([]byte(`<cas:serviceResponse xmlns:cas="http://www.yale.edu/tp/cas"><cas:authenticationFailure code="INVALID_TICKET">x</cas:authenticationFailure></cas:serviceResponse>`))
	f.Add([]byte(`<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><serviceResponse>&e;</serviceResponse>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		u, err := parseCASResponse(body, "roles")
		if err == nil && u.name == "" {
			t.Fatal("success without a user")
		}
	})
}
