package saml

import (
	"encoding/json"
	"fmt"

	"github.com/mpassid/mpassid/internal/binenc"
)

// ssoStateVersion is the binenc version of the SSO state the broker seals
// into its transaction cookie. State sealed as JSON by earlier versions
// (it starts with '{') still opens, so that logins in flight during an
// upgrade finish; the fallback can go a release after this one.
const ssoStateVersion = 1

// encodeSSOState is the state's record: read on every SAML login, as JSON
// it cost a validating and a decoding scan.
func encodeSSOState(st ssoState) []byte {
	w := binenc.NewWriter(ssoStateVersion, 8+len(st.EntityID)+len(st.RequestID)+len(st.ACS)+len(st.RelayState))
	w.String(st.EntityID)
	w.String(st.RequestID)
	w.String(st.ACS)
	w.String(st.RelayState)
	return w.Bytes()
}

// decodeSSOState reads what encodeSSOState wrote, or the JSON of earlier
// versions.
func decodeSSOState(data []byte) (ssoState, error) {
	var st ssoState
	if binenc.WrittenAsJSON(data) {
		if err := json.Unmarshal(data, &st); err != nil {
			return ssoState{}, fmt.Errorf("decode sso state: %w", err)
		}
		return st, nil
	}
	r := binenc.NewReader(data, ssoStateVersion)
	st.EntityID = r.String()
	st.RequestID = r.String()
	st.ACS = r.String()
	st.RelayState = r.String()
	if err := r.Done(); err != nil {
		return ssoState{}, fmt.Errorf("decode sso state: %w", err)
	}
	return st, nil
}
