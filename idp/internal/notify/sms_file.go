package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// FileSMSSender is the development SMS sender, used when no gateway is
// configured and the issuer is a loopback address: it writes each SMS as a
// JSON file {"to", "body"} and logs where (not what: the body carries a
// code).
type FileSMSSender struct {
	Dir    string // created (0700) when missing; files are 0600
	Logger *slog.Logger
}

// SendSMS writes s to Dir/<UTC timestamp>-<random>.json.
func (f *FileSMSSender) SendSMS(ctx context.Context, s SMS) error {
	if s.To == "" || s.Body == "" {
		return Permanent(errors.New("SMS has no recipient or no body"))
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(f.Dir, 0o700); err != nil {
		return fmt.Errorf("SMS directory: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return Permanent(fmt.Errorf("encoding SMS: %w", err))
	}
	name := time.Now().UTC().Format("20060102T150405.000000Z") + "-" + randomHex(4) + ".json"
	path := filepath.Join(f.Dir, name)
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("writing SMS file: %w", err)
	}
	_, werr := file.Write(append(b, '\n'))
	if err := errors.Join(werr, file.Close()); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing SMS file %s: %w", path, err)
	}
	logger := f.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Info("SMS written", "path", path, "to", s.To)
	return nil
}
