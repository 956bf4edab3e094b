package server

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// op's "request error" line is logged at Debug for a request that met a
// database outage (it was answered 503), and as it is otherwise; other
// lines of such a request keep their level.
func TestQuietOutageErrors(t *testing.T) {
	for _, level := range []slog.Level{slog.LevelInfo, slog.LevelDebug} {
		var buf bytes.Buffer
		log := slog.New(QuietOutageErrors(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: level}))).With("component", "test")

		plain, _ := storage.WatchOutage(context.Background())
		outage, _ := storage.WatchOutage(context.Background())
		_ = storage.Unavailable(outage, errors.New("connection refused"))

		log.Log(plain, slog.LevelError, "request error", "n", 1)
		log.Log(outage, slog.LevelError, "request error", "n", 2)
		log.Log(outage, slog.LevelError, "something else", "n", 3)
		out := buf.String()

		if !strings.Contains(out, "level=ERROR msg=\"request error\" component=test n=1") {
			t.Errorf("level %v: the line of a request without an outage changed:\n%s", level, out)
		}
		if !strings.Contains(out, "level=ERROR msg=\"something else\" component=test n=3") {
			t.Errorf("level %v: another line of the outage request changed:\n%s", level, out)
		}
		quiet := strings.Contains(out, "level=DEBUG msg=\"request error\" component=test n=2")
		if level == slog.LevelDebug && !quiet {
			t.Errorf("at Debug the outage request's error line is not at DEBUG:\n%s", out)
		}
		if level == slog.LevelInfo && strings.Contains(out, "n=2") {
			t.Errorf("at Info the outage request's error line was logged:\n%s", out)
		}
	}
}
