package broker

import (
	"context"
	"log/slog"

	"github.com/mpassid/mpassid/internal/connector"
)

// LogFailure logs a failed step of a request (a store write, a read) as an
// error, unless the failure is only the request's end
// (connector.ClientGone): that is routine and logged at info, marked
// client_gone, so that an error in the log always asks for a look.
func LogFailure(ctx context.Context, log *slog.Logger, msg string, err error, attrs ...any) {
	attrs = append(attrs, slog.String("error", err.Error()))
	if connector.ClientGone(ctx, err) {
		log.InfoContext(ctx, msg, append(attrs, slog.Bool("client_gone", true))...)
		return
	}
	log.ErrorContext(ctx, msg, attrs...)
}
