package broker

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzTransactionCookie: the transaction cookie comes back from the browser;
// no value may panic, and only a value this broker sealed for that name
// opens.
func FuzzTransactionCookie(f *testing.F) {
	b := &Broker{cfg: Config{TransactionLifetime: time.Minute, Now: time.Now}}
	f.Add("abcdefghijklmnopqrstuvwxyz", "v1:AAAA")
	f.Add("x", "")
	f.Add("0123456789abcdef", "v1:"+string(make([]byte, 300)))
	f.Fuzz(func(t *testing.T, id, value string) {
		b.sealer = testSealerF(t)
		r := httptest.NewRequest("GET", "/", nil)
		if len(id) > 0 && validCookieName(txCookieName(id)) {
			r.AddCookie(&http.Cookie{Name: txCookieName(id), Value: value})
		}
		if tx, err := b.loadTransaction(r, id); err == nil || tx != nil {
			t.Fatalf("opened a transaction from an arbitrary cookie: %+v %v", tx, err)
		}
		w := httptest.NewRecorder()
		b.pruneTransactions(w, r, 0)
	})
}

// FuzzRecentAndChoice: the selection form's choice and the recent-choices
// cookie come from the browser.
func FuzzRecentAndChoice(f *testing.F) {
	f.Add("4000001.99001", "4000001_4000002.99001")
	f.Add("", "")
	f.Add("-1.x", "__..")
	f.Fuzz(func(t *testing.T, choice, recent string) {
		if id, ok := parseChoice(choice); ok && id < 0 {
			t.Fatalf("negative source id %d from %q", id, choice)
		}
		r := httptest.NewRequest("GET", "/", nil)
		if validCookieValue(recent) {
			r.AddCookie(&http.Cookie{Name: recentCookie, Value: recent})
		}
		for _, c := range recentChoices(r) {
			if !validChoiceID(c) {
				t.Fatalf("recent choice %q not valid", c)
			}
		}
	})
}

func validCookieName(s string) bool {
	for _, c := range s {
		if c <= ' ' || c >= 0x7f || c == '=' || c == ';' || c == ',' {
			return false
		}
	}
	return s != ""
}

func validCookieValue(s string) bool {
	for _, c := range s {
		if c < 0x21 || c > 0x7e || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}
