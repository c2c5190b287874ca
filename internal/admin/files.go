package admin

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/mpassid/mpassid/internal/model"
	"github.com/mpassid/mpassid/internal/store"
)

// uploaded reads an upload: a multipart form's "file" part, or the raw
// body. More than limit bytes is a 413.
func uploaded(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		return readBody(w, r, limit)
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit+64<<10)
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, badRequest("invalid multipart form")
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, badRequest(`the form has no "file" part`)
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d bytes", limit)}
			}
			return nil, badRequest("invalid multipart form")
		}
		if part.FormName() != "file" {
			continue
		}
		data, err := io.ReadAll(io.LimitReader(part, limit+1))
		if err != nil {
			return nil, badRequest("cannot read the file")
		}
		if int64(len(data)) > limit {
			return nil, &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the file is larger than %d bytes", limit)}
		}
		return data, nil
	}
}

// logoTypes are the accepted logo formats, by sniffed content type. SVG is
// not accepted: it can carry script.
var logoTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}

func (a *API) logoPath(id int64) string {
	return BasePath + "/integration/" + strconv.FormatInt(id, 10) + "/discoveryinformation/logo"
}

func (a *API) handleLogoUpload(w http.ResponseWriter, r *http.Request, p *Principal) {
	in, err := a.load(r, p, OpUpdate)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	if in.IdP == nil {
		a.failErr(w, r, badRequest("only identity providers have a logo"))
		return
	}
	data, err := uploaded(w, r, a.cfg.MaxLogoSize)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	ct := http.DetectContentType(data)
	ok := false
	for _, t := range logoTypes {
		ok = ok || ct == t
	}
	if len(data) == 0 || !ok {
		a.failErr(w, r, &model.FieldError{Field: "file", Message: "must be a PNG, JPEG, GIF or WebP image"})
		return
	}
	if err := a.st.PutLogo(r.Context(), store.Logo{IntegrationID: in.ID, ContentType: ct, Data: data, UpdatedAt: a.now().UTC()}); err != nil {
		a.failErr(w, r, err)
		return
	}
	// Point the IdP's logo at the stored one (a new version, so that the
	// broker picks it up).
	url := a.cfg.PublicURL + a.logoPath(in.ID)
	if in.IdP.LogoURL != url {
		in.IdP.LogoURL = url
		a.save(w, r, p, in)
		return
	}
	a.writeJSON(w, http.StatusOK, a.record(in))
}

// handleLogoGet serves a logo to anyone: logos are public, shown on the
// school-selection page.
func (a *API) handleLogoGet(w http.ResponseWriter, r *http.Request, _ *Principal) {
	id, err := pathID(r)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	l, err := a.st.GetLogo(r.Context(), id)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", l.ContentType)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("Cache-Control", "public, max-age=300")
	http.ServeContent(w, r, "", l.UpdatedAt, bytes.NewReader(l.Data))
}

// handleMetadataUpload stores a SAML IdP's metadata: an uploaded document
// (raw body or multipart "file"), or with ?url= the URL to fetch it from.
// Either is parsed and validated by the SAML connector's parser, and the
// expiry dates are recorded.
func (a *API) handleMetadataUpload(w http.ResponseWriter, r *http.Request, p *Principal) {
	// Authorised before the body is read; SetMetadata checks again.
	in, err := a.load(r, p, OpUpdate)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	u := r.URL.Query().Get("url")
	var doc []byte
	if u == "" {
		if doc, err = uploaded(w, r, a.cfg.MaxMetadataSize); err != nil {
			a.failErr(w, r, err)
			return
		}
	}
	saved, err := a.SetMetadata(r.Context(), p, in.ID, 0, u, doc)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	a.writeJSON(w, http.StatusOK, a.record(saved))
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func (a *API) handleMetadataGet(w http.ResponseWriter, r *http.Request, p *Principal) {
	in, err := a.load(r, p, OpView)
	if err != nil {
		a.failErr(w, r, err)
		return
	}
	if in.IdP == nil || in.IdP.Metadata == "" {
		a.failErr(w, r, store.ErrNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="metadata-%d.xml"`, in.ID))
	io.WriteString(w, in.IdP.Metadata)
}
