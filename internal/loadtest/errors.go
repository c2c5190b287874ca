package loadtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// stepError is a failed login: the step it failed at and a short kind that
// groups like failures in the report, with the cause.
type stepError struct {
	step string
	kind string
	err  error
}

func (e *stepError) Error() string {
	if e.err == nil {
		return e.step + ": " + e.kind
	}
	return e.step + ": " + e.kind + ": " + e.err.Error()
}

func (e *stepError) Unwrap() error { return e.err }

// Kind is how the report groups the error.
func (e *stepError) Kind() string { return e.step + ": " + e.kind }

func newError(step, kind string, err error) error {
	return &stepError{step: step, kind: kind, err: err}
}

// transportError classifies an error of the HTTP client.
func transportError(step string, err error) error {
	kind := "transport"
	var ne net.Error
	var ue *url.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		kind = "timeout"
	case errors.Is(err, context.Canceled):
		kind = "cancelled"
	case errors.Is(err, errTooManyRedirects):
		kind = "redirect loop"
	case errors.Is(err, errNotBroker), errors.Is(err, errNotLoopback):
		kind = "refused destination"
	case errors.As(err, &ue) && strings.Contains(ue.Err.Error(), "connection refused"):
		kind = "connection refused"
	case strings.Contains(err.Error(), "connection reset"):
		kind = "connection reset"
	}
	return &stepError{step: step, kind: kind, err: err}
}

// kindOf returns the report group of any error.
func kindOf(err error) string {
	var se *stepError
	if errors.As(err, &se) {
		return se.Kind()
	}
	return "other"
}

// httpStatusError is an unexpected HTTP status at a step.
func httpStatusError(step string, p *page) error {
	return &stepError{step: step, kind: fmt.Sprintf("HTTP %d", p.status), err: fmt.Errorf("%s: %s", p.url.Path, snippet(p.body))}
}

// snippet returns the start of a page, for an error message.
func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
