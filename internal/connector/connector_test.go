package connector

import "testing"

func TestBareHost(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{"en.inschool.fi", "en.inschool.fi", true},
		{" ka.opinsys.fi ", "ka.opinsys.fi", true},
		{"host.example:8443", "host.example:8443", true},
		{"", "", false},
		{"evil.example/path", "", false},
		{"user@evil.example", "", false},
		{"evil.example?x=1", "", false},
		{"evil.example#f", "", false},
		{"a b", "", false},
	} {
		got, err := BareHost(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("BareHost(%q) = %q, %v", tt.in, got, err)
		}
	}
}
