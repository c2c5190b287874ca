package web

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// maxFormParams is net/url's default bound on the parameters of a query
// (GODEBUG urlmaxqueryparams, which can move url's, does not move this).
const maxFormParams = 10000

// maxFormBody is net/http's bound on a url-encoded body. Here it holds
// under an http.MaxBytesReader too, whose bound is the lower one wherever
// this program sets one.
const maxFormBody = 10 << 20

// ParseForm is http.Request.ParseForm with the url-encoded body of a POST,
// PUT or PATCH decoded by an unescape of its own. A SAML Response arrives
// as a form value of 10-30 KB of percent-encoded base64; net/url's
// unescape writes its result a byte at a time and took 0.05 ms of a
// brokered login for it, where this one copies the runs between escapes
// whole. r.PostForm, r.Form and the errors are ParseForm's (FuzzParseQuery
// holds the parser to url.ParseQuery); every other request goes to
// r.ParseForm itself.
func ParseForm(r *http.Request) error {
	if r.PostForm != nil || r.Body == nil || (r.Method != http.MethodPost && r.Method != http.MethodPut && r.Method != http.MethodPatch) {
		return r.ParseForm()
	}
	if ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || ct != "application/x-www-form-urlencoded" {
		return r.ParseForm()
	}
	var body bytes.Buffer
	if r.ContentLength > 0 {
		// Sized from the header up to what a SAML Response takes, not
		// further: a client may claim any length without sending it.
		// ReadFrom wants MinRead bytes free before each read, the one
		// that meets the end too.
		body.Grow(int(min(r.ContentLength, 64<<10)) + bytes.MinRead)
	}
	_, err := body.ReadFrom(io.LimitReader(r.Body, maxFormBody+1))
	if err == nil && body.Len() > maxFormBody {
		err = errors.New("http: POST too large")
	}
	if err != nil {
		r.PostForm = url.Values{}
		_ = r.ParseForm() // the query into r.Form, as ParseForm does after a failed body
		return err
	}
	vs, err := parseQuery(body.String())
	r.PostForm = vs
	// With r.PostForm set, ParseForm only merges it with the URL's query
	// into r.Form.
	if e := r.ParseForm(); err == nil {
		err = e
	}
	return err
}

// parseQuery is url.ParseQuery with queryUnescape.
func parseQuery(query string) (url.Values, error) {
	m := url.Values{}
	if strings.Count(query, "&")+1 > maxFormParams {
		return m, errors.New("number of URL query parameters exceeded limit")
	}
	var err error
	for query != "" {
		var key string
		key, query, _ = strings.Cut(query, "&")
		if strings.Contains(key, ";") {
			err = errors.New("invalid semicolon separator in query")
			continue
		}
		if key == "" {
			continue
		}
		key, value, _ := strings.Cut(key, "=")
		key, err1 := queryUnescape(key)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		value, err1 = queryUnescape(value)
		if err1 != nil {
			if err == nil {
				err = err1
			}
			continue
		}
		m[key] = append(m[key], value)
	}
	return m, err
}

// queryUnescape is url.QueryUnescape: "%XX" is the byte XX and "+" a
// space. The text between them is copied a run at a time.
func queryUnescape(s string) (string, error) {
	var b strings.Builder
	escaped := false
	run := 0 // where the text not yet copied begins
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '+':
			if !escaped {
				b.Grow(len(s))
				escaped = true
			}
			b.WriteString(s[run:i])
			b.WriteByte(' ')
			run = i + 1
		case '%':
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				bad := s[i:]
				if len(bad) > 3 {
					bad = bad[:3]
				}
				return "", url.EscapeError(bad)
			}
			if !escaped {
				b.Grow(len(s))
				escaped = true
			}
			b.WriteString(s[run:i])
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			run = i + 1
		}
	}
	if !escaped {
		return s, nil
	}
	b.WriteString(s[run:])
	return b.String(), nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
