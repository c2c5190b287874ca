package broker

import (
	"context"
	"errors"
	"log/slog"
)

// LogFailure logs a failed step of a request (a store write, a read) as an
// error, unless the failure is only the request's end: its browser or
// service went away, the request's context ended, and that cut the call
// short. That is routine (a pupil closing the page, a service giving up on
// its token request) and is logged at info, marked client_gone, so that an
// error in the log always asks for a look. Any other failure of a request
// that ended meanwhile is still an error.
func LogFailure(ctx context.Context, log *slog.Logger, msg string, err error, attrs ...any) {
	attrs = append(attrs, slog.String("error", err.Error()))
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		log.InfoContext(ctx, msg, append(attrs, slog.Bool("client_gone", true))...)
		return
	}
	log.ErrorContext(ctx, msg, attrs...)
}
