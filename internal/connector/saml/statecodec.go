package saml

import (
	"encoding/json"
	"fmt"

	"github.com/mpassid/mpassid/internal/binenc"
)

// stateVersion is the binenc version of the state Start hands the broker
// to seal into its transaction cookie (and the value of state.V). State
// sealed as JSON by earlier versions (it starts with '{') still opens, so
// that logins in flight during an upgrade finish; the fallback can go a
// release after this one.
const stateVersion = 1

// encodeState is the state's record: read on every SAML login, as JSON it
// cost a validating and a decoding scan.
func encodeState(st state) []byte {
	w := binenc.NewWriter(stateVersion, 24+len(st.RequestID)+len(st.IdP))
	w.String(st.RequestID)
	w.Time(st.IssuedAt)
	w.String(st.IdP)
	return w.Bytes()
}

// decodeState reads what encodeState wrote, or the JSON of earlier
// versions; either must name a request.
func decodeState(data []byte) (state, error) {
	var st state
	if binenc.WrittenAsJSON(data) {
		if err := json.Unmarshal(data, &st); err != nil || st.V != stateVersion {
			return state{}, fmt.Errorf("decode state: not a version %d state", stateVersion)
		}
	} else {
		r := binenc.NewReader(data, stateVersion)
		st = state{V: stateVersion, RequestID: r.String(), IssuedAt: r.Time(), IdP: r.String()}
		if err := r.Done(); err != nil {
			return state{}, fmt.Errorf("decode state: %w", err)
		}
	}
	if st.RequestID == "" {
		return state{}, fmt.Errorf("decode state: no request ID")
	}
	return st, nil
}
