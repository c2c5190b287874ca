package broker

import (
	"encoding/json"
	"fmt"

	"github.com/mpassid/mpassid/internal/binenc"
	"github.com/mpassid/mpassid/internal/model"
)

// sessionVersion starts an SSO session's record in the binenc form, written
// on every login where encoding/json walked the user's record by
// reflection. Records written as JSON by earlier versions still read, and
// a participant added to one keeps it JSON (addParticipant), so that a
// version rolled back to still reads the sessions it started.
const sessionVersion = 1

// encodeSession is the store's record of an SSO session.
func encodeSession(d *sessionData) []byte {
	w := binenc.NewWriter(sessionVersion, 512)
	u := d.User
	w.Bool(u != nil)
	if u != nil {
		w.String(u.UID)
		w.String(u.GivenName)
		w.String(u.Surname)
		w.String(u.Nickname)
		w.String(u.LearnerID)
		w.Bool(u.TestLearnerID)
		w.Count(len(u.Roles))
		for i := range u.Roles {
			r := &u.Roles[i]
			w.String(r.ProviderOID)
			w.String(r.ProviderName)
			w.String(r.SchoolCode)
			w.String(r.SchoolOID)
			w.String(r.SchoolName)
			w.String(r.OfficeOID)
			w.String(r.OfficeName)
			w.String(r.Group)
			w.String(r.RoleName)
			w.Int(int64(r.RoleCode))
			writeOptionalInt(w, r.LearningMaterialsCharge)
		}
		writeOptionalInt(w, u.ClassLevel)
		w.String(u.OriginalIssuer)
		w.String(u.Source)
	}
	w.Int(d.SourceID)
	w.String(d.Source)
	w.Time(d.AuthnInstant)
	w.Count(len(d.Participants))
	for _, p := range d.Participants {
		w.Int(p.ServiceID)
		w.String(string(p.Protocol))
		w.ByteString(p.Data)
	}
	return w.Bytes()
}

// decodeSession reads what encodeSession wrote, or the JSON of earlier
// versions; asJSON reports which.
func decodeSession(data []byte) (d *sessionData, asJSON bool, err error) {
	d = &sessionData{}
	if binenc.WrittenAsJSON(data) {
		if err := json.Unmarshal(data, d); err != nil {
			return nil, true, fmt.Errorf("decode session: %w", err)
		}
		return d, true, nil
	}
	r := binenc.NewReader(data, sessionVersion)
	if r.Bool() {
		u := &model.User{}
		u.UID = r.String()
		u.GivenName = r.String()
		u.Surname = r.String()
		u.Nickname = r.String()
		u.LearnerID = r.String()
		u.TestLearnerID = r.Bool()
		// A role takes at least eleven bytes: nine empty strings, a code,
		// an absent charge.
		if n := r.Count(11); n > 0 {
			u.Roles = make([]model.UserRole, n)
			for i := range u.Roles {
				ro := &u.Roles[i]
				ro.ProviderOID = r.String()
				ro.ProviderName = r.String()
				ro.SchoolCode = r.String()
				ro.SchoolOID = r.String()
				ro.SchoolName = r.String()
				ro.OfficeOID = r.String()
				ro.OfficeName = r.String()
				ro.Group = r.String()
				ro.RoleName = r.String()
				ro.RoleCode = int(r.Int())
				ro.LearningMaterialsCharge = readOptionalInt(r)
			}
		}
		u.ClassLevel = readOptionalInt(r)
		u.OriginalIssuer = r.String()
		u.Source = r.String()
		d.User = u
	}
	d.SourceID = r.Int()
	d.Source = r.String()
	d.AuthnInstant = r.Time()
	// A participant takes at least three bytes.
	if n := r.Count(3); n > 0 {
		d.Participants = make([]Participant, n)
		for i := range d.Participants {
			p := &d.Participants[i]
			p.ServiceID = r.Int()
			p.Protocol = Protocol(r.String())
			p.Data = r.ByteString()
		}
	}
	if err := r.Done(); err != nil {
		return nil, false, fmt.Errorf("decode session: %w", err)
	}
	return d, false, nil
}

func writeOptionalInt(w *binenc.Writer, v *int) {
	w.Bool(v != nil)
	if v != nil {
		w.Int(int64(*v))
	}
}

func readOptionalInt(r *binenc.Reader) *int {
	if !r.Bool() {
		return nil
	}
	v := int(r.Int())
	return &v
}
