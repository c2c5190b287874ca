package admin

import (
	"cmp"
	"crypto/x509"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// Expiry is something of an integration that expires within the window.
type Expiry struct {
	ID              int64  `json:"id"`
	Name            string `json:"name"`
	Role            string `json:"role"`
	OrganisationOID string `json:"organisationOid"`
	DeploymentPhase int    `json:"deploymentPhase"`
	// What is "metadata", "signingCertificate" or "encryptionCertificate".
	What      string    `json:"what"`
	ExpiresAt time.Time `json:"expiresAt"`
	Expired   bool      `json:"expired"`
}

// Expiring lists what expires before now+window in the active
// integrations: IdP metadata and its certificates, SAML services'
// certificates. Soonest first.
func Expiring(all []*model.Integration, now time.Time, window time.Duration) []Expiry {
	limit := now.Add(window)
	out := []Expiry{}
	add := func(in *model.Integration, what string, t *time.Time) {
		if t == nil || t.IsZero() || t.After(limit) {
			return
		}
		out = append(out, Expiry{ID: in.ID, Name: in.Name(), Role: string(in.Role), OrganisationOID: in.OrganisationOID,
			DeploymentPhase: int(in.DeploymentPhase), What: what, ExpiresAt: t.UTC(), Expired: !t.After(now)})
	}
	for _, in := range all {
		if !in.Active() {
			continue
		}
		switch {
		case in.IdP != nil:
			add(in, "metadata", in.IdP.MetadataValidUntil)
			add(in, "signingCertificate", in.IdP.SigningCertificateValidUntil)
			add(in, "encryptionCertificate", in.IdP.EncryptionCertificateValidUntil)
		case in.SP != nil && in.SP.SAML != nil:
			add(in, "signingCertificate", latestNotAfter(in.SP.SAML.SigningCertificates))
			add(in, "encryptionCertificate", latestNotAfter(in.SP.SAML.EncryptionCertificates))
		}
	}
	slices.SortFunc(out, func(a, b Expiry) int { return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), cmp.Compare(a.ID, b.ID)) })
	return out
}

// latestNotAfter is when the last of the certificates expires: until then
// the service still has a valid one.
func latestNotAfter(certs []string) *time.Time {
	var latest *time.Time
	for _, c := range certs {
		der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c), ""))
		if err != nil {
			continue
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			continue
		}
		if t := cert.NotAfter; latest == nil || t.After(*latest) {
			latest = &t
		}
	}
	return latest
}

func (a *API) handleExpiring(w http.ResponseWriter, r *http.Request, p *Principal) {
	window := a.cfg.ExpiryWindow
	if s := r.URL.Query().Get("days"); s != "" {
		d, err := strconv.Atoi(s)
		if err != nil || d < 0 || d > 3650 {
			a.failErr(w, r, badRequest("days must be 0 to 3650"))
			return
		}
		window = time.Duration(d) * 24 * time.Hour
	}
	f := store.IntegrationFilter{Status: model.StatusActive}
	if !p.seesAll() {
		f.OrganisationOIDs = p.organisations()
		if f.OrganisationOIDs == nil {
			f.OrganisationOIDs = []string{}
		}
	}
	all, _, err := a.st.ListIntegrations(r.Context(), f)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	visible := all[:0]
	for _, in := range all {
		if Allowed(p, OpView, in.Role, in.OrganisationOID) {
			visible = append(visible, in)
		}
	}
	a.writeJSON(w, http.StatusOK, Expiring(visible, a.now(), window))
}
