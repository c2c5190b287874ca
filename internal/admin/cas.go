package admin

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CAS 3.0 sign-in: the national staff login (virkailijan tunnistus) is a CAS
// server. The browser goes to <CASURL>/login?service=<our callback>; CAS
// sends it back with a ticket, which the server validates once at
// <CASURL>/p3/serviceValidate. The user's role groups come from a CAS
// attribute (Config.CASGroupsAttribute).

const (
	casLoginCookie = "mpassid_admin_cas"
	casLoginAD     = "admin cas sign-in"
	// maxCASResponse caps a validation answer; real ones are a few KB.
	maxCASResponse = 256 << 10
)

// casServiceURL is the service URL registered at CAS; it must be the same
// in the login redirect and the validation, so it carries no parameters.
func (a *API) casServiceURL() string { return a.cfg.PublicURL + BasePath + "/auth/cas/callback" }

type casLogin struct {
	Return  string    `json:"return"`
	Expires time.Time `json:"exp"`
}

func (a *API) handleCASLogin(w http.ResponseWriter, r *http.Request, _ *Principal) {
	if a.cfg.CASURL == "" {
		a.fail(w, r, http.StatusNotFound, "CAS sign-in is not configured")
		return
	}
	v, err := a.sealJSON(casLogin{Return: localReturn(r.URL.Query().Get("return")), Expires: a.now().Add(10 * time.Minute)}, casLoginAD)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.setCookie(w, casLoginCookie, v, 10*time.Minute)
	http.Redirect(w, r, strings.TrimSuffix(a.cfg.CASURL, "/")+"/login?service="+url.QueryEscape(a.casServiceURL()), http.StatusFound)
}

func (a *API) handleCASCallback(w http.ResponseWriter, r *http.Request, _ *Principal) {
	if a.cfg.CASURL == "" {
		a.fail(w, r, http.StatusNotFound, "CAS sign-in is not configured")
		return
	}
	ck, err := r.Cookie(casLoginCookie)
	var st casLogin
	if err != nil || a.openJSON(ck.Value, casLoginAD, &st) != nil || a.now().After(st.Expires) {
		a.fail(w, r, http.StatusBadRequest, "no sign-in in progress")
		return
	}
	a.setCookie(w, casLoginCookie, "", -time.Second)
	ticket := r.URL.Query().Get("ticket")
	if ticket == "" {
		a.fail(w, r, http.StatusBadRequest, "sign-in failed: no ticket")
		return
	}
	user, err := a.validateCASTicket(r, ticket)
	if err != nil {
		a.log.WarnContext(r.Context(), "admin CAS sign-in failed", "error", err)
		a.fail(w, r, http.StatusUnauthorized, "sign-in failed")
		return
	}
	if _, err := a.StartSession(w, user.name, user.displayName, user.groups); err != nil {
		a.failErr(w, r, err)
		return
	}
	a.log.InfoContext(r.Context(), "admin sign-in", "method", "cas", "roles", len(RolesFromGroups(user.groups)))
	http.Redirect(w, r, st.Return, http.StatusFound)
}

type casUser struct {
	name, displayName string
	groups            []string
}

// casServiceResponse is the CAS 3.0 validation answer.
type casServiceResponse struct {
	XMLName xml.Name `xml:"serviceResponse"`
	Success *struct {
		User       string `xml:"user"`
		Attributes struct {
			Values []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"attributes"`
	} `xml:"authenticationSuccess"`
	Failure *struct {
		Code    string `xml:"code,attr"`
		Message string `xml:",chardata"`
	} `xml:"authenticationFailure"`
}

// validateCASTicket asks CAS whether the ticket was issued for our service.
// CAS answers once per ticket, which makes a replayed ticket fail.
func (a *API) validateCASTicket(r *http.Request, ticket string) (*casUser, error) {
	u := strings.TrimSuffix(a.cfg.CASURL, "/") + "/p3/serviceValidate?service=" + url.QueryEscape(a.casServiceURL()) + "&ticket=" + url.QueryEscape(ticket)
	req, err := http.NewRequestWithContext(r.Context(), http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("cas: %w", err)
	}
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("cas: validate ticket: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("cas: validation answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCASResponse+1))
	if err != nil {
		return nil, fmt.Errorf("cas: read validation: %w", err)
	}
	return parseCASResponse(body, a.cfg.CASGroupsAttribute)
}

// parseCASResponse reads a CAS 3.0 serviceValidate answer. Go's XML decoder
// expands no external entities, and the size is capped by the caller.
func parseCASResponse(body []byte, groupsAttr string) (*casUser, error) {
	if len(body) > maxCASResponse {
		return nil, fmt.Errorf("cas: validation answer over %d bytes", maxCASResponse)
	}
	var sr casServiceResponse
	if err := xml.Unmarshal(body, &sr); err != nil {
		return nil, fmt.Errorf("cas: parse validation: %w", err)
	}
	if sr.Failure != nil {
		return nil, fmt.Errorf("cas: ticket refused: %s %s", sr.Failure.Code, strings.TrimSpace(sr.Failure.Message))
	}
	if sr.Success == nil || strings.TrimSpace(sr.Success.User) == "" {
		return nil, fmt.Errorf("cas: validation without a user")
	}
	u := &casUser{name: strings.TrimSpace(sr.Success.User)}
	for _, v := range sr.Success.Attributes.Values {
		val := strings.TrimSpace(v.Value)
		switch v.XMLName.Local {
		case groupsAttr:
			for _, g := range strings.FieldsFunc(val, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
				u.groups = append(u.groups, g)
			}
		case "displayName", "name":
			u.displayName = val
		}
	}
	if u.displayName == "" {
		u.displayName = u.name
	}
	return u, nil
}
