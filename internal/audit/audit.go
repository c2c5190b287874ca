// Package audit writes the audit trail of logins and logouts: one
// structured log event per outcome, with the same field names everywhere,
// so that a support person can find a pupil's failed login by the
// reference code on the error page, and an operator can count outcomes per
// service and source, without the log ever holding who the user was.
//
// Events go to the program's slog.Logger (and so to wherever its logs go)
// as event=login|login_failed|logout with service, source, result,
// reference and subject. The subject is a truncated SHA-256 of the user's
// uid: enough to correlate one user's events, not the uid itself.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
)

// Event kinds.
const (
	EventLogin       = "login"
	EventLoginFailed = "login_failed"
	EventLogout      = "logout"
)

// Results of a successful login.
const (
	// ResultUpstream: the user logged in at the source.
	ResultUpstream = "upstream"
	// ResultSSO: the SSO session answered without a new upstream login.
	ResultSSO = "sso"
)

// Logger writes audit events. The zero value discards them.
type Logger struct {
	log *slog.Logger
}

// New returns a Logger writing to log.
func New(log *slog.Logger) *Logger { return &Logger{log: log} }

// Login records a completed login.
type Login struct {
	Service int64
	// Source is the source's flowName.
	Source string
	UID    string
	// Result is ResultUpstream or ResultSSO.
	Result string
}

// Failure records a login that ended without a user.
type Failure struct {
	// Service is 0 when the request did not name a known service.
	Service int64
	Source  string
	// Result is the machine-readable reason (an error code such as
	// "cancelled", or a page's cause such as "transaction_expired").
	Result string
	// Reference is the code shown to the user.
	Reference string
	Cause     error
	// Detail says in a few words where it failed ("callback for unknown
	// source"); Extra are more slog attributes for the operator.
	Detail string
	Extra  []any
	// ClientGone says the failure is only the request's end: its browser
	// or service went away, which cut a store or upstream call short
	// (connector.ClientGone). Such a failure is routine.
	ClientGone bool
}

// Logout records an ended SSO session.
type Logout struct {
	Source string
	UID    string
	// Participants is how many services the session had.
	Participants int
	// Result says how it ended ("ended", "no_session").
	Result string
}

// Subject is the hash the log keeps instead of a uid.
func Subject(uid string) string {
	if uid == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(uid))
	return hex.EncodeToString(sum[:8])
}

// LoggedIn writes a login event.
func (l *Logger) LoggedIn(ctx context.Context, e Login) {
	if l == nil || l.log == nil {
		return
	}
	l.log.LogAttrs(ctx, slog.LevelInfo, "login completed",
		slog.String("event", EventLogin), slog.Int64("service", e.Service), slog.String("source", e.Source),
		slog.String("result", e.Result), slog.String("subject", Subject(e.UID)))
}

// LoginFailed writes a login_failed event.
func (l *Logger) LoginFailed(ctx context.Context, e Failure) {
	if l == nil || l.log == nil {
		return
	}
	attrs := []any{slog.String("event", EventLoginFailed), slog.Int64("service", e.Service), slog.String("source", e.Source),
		slog.String("result", e.Result), slog.String("reference", e.Reference)}
	if e.Detail != "" {
		attrs = append(attrs, slog.String("detail", e.Detail))
	}
	if e.Cause != nil {
		attrs = append(attrs, slog.String("error", e.Cause.Error()))
	}
	attrs = append(attrs, e.Extra...)
	// What users do (cancel, close the page before the answer, or a
	// service's silent check finding no session) is routine; the rest is
	// worth a look, whereas one that is only the client going away
	// (ClientGone) is routine too.
	level := slog.LevelWarn
	if e.Result == "cancelled" || e.Result == "no_passive" {
		level = slog.LevelInfo
	}
	if e.ClientGone {
		level = slog.LevelInfo
		attrs = append(attrs, slog.Bool("client_gone", true))
	}
	l.log.Log(ctx, level, "login failed", attrs...)
}

// LoggedOut writes a logout event.
func (l *Logger) LoggedOut(ctx context.Context, e Logout) {
	if l == nil || l.log == nil {
		return
	}
	l.log.LogAttrs(ctx, slog.LevelInfo, "logout",
		slog.String("event", EventLogout), slog.String("source", e.Source), slog.String("result", e.Result),
		slog.Int("participants", e.Participants), slog.String("subject", Subject(e.UID)))
}
