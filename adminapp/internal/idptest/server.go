package idptest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// User is a user seeded with `idp user add` before the provider starts.
type User struct {
	Email      string
	Password   string // required: seeded users can sign in at once
	GivenName  string
	FamilyName string
	Type       string   // employee (default) or clinician
	Phone      string   // E.164; required for clinicians
	Roles      []string // super_admin, admin, assigning_manager
}

// Options configure a provider.
type Options struct {
	// Users are created before the provider starts (the store is then
	// not empty, so no bootstrap admin is made).
	Users []User
	// Env adds IDP_* settings (e.g. IDP_ACCESS_TOKEN_TTL=2m); they win
	// over Start's own (IDP_MFA_REQUIRED_ROLES=none among them).
	Env []string
}

// Server is a running `idp serve`.
type Server struct {
	Issuer  string
	DataDir string
	Mail    *Mailbox
	SMS     *SMSBox // the provider's SMS gateway (IDP_SMS_URL)

	bin  string
	env  []string
	cmd  *exec.Cmd
	done chan struct{}

	logMu sync.Mutex
	log   bytes.Buffer
}

// Start seeds opts.Users and starts the provider from the idp binary bin
// on SQLite in a new temporary directory, with a Mailbox as its SMTP
// server and an SMSBox as its SMS gateway. It returns once /readyz
// answers 200. Stop ends it and removes the directory.
func Start(bin string, opts Options) (*Server, error) {
	dir, err := os.MkdirTemp("", "adminapp-idp-")
	if err != nil {
		return nil, err
	}
	s := &Server{DataDir: dir, bin: bin, done: make(chan struct{})}
	ok := false
	defer func() {
		if !ok {
			s.Stop()
		}
	}()
	if s.Mail, err = NewMailbox(); err != nil {
		return nil, err
	}
	if s.SMS, err = NewSMSBox(); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.Issuer = "http://127.0.0.1:" + strconv.Itoa(port)
	s.env = append(os.Environ(),
		"IDP_ISSUER="+s.Issuer,
		"IDP_LISTEN=127.0.0.1:"+strconv.Itoa(port),
		"IDP_DATA_DIR="+dir,
		"IDP_DATABASE="+filepath.Join(dir, "idp.db"),
		"IDP_SMTP_URL="+s.Mail.URL(),
		"IDP_LOG_LEVEL=warn",
		// No role must use two-step sign-in: an authenticator code works
		// once, so signing the same admin in again and again, as the
		// tests do, would wait up to 30 s each time for a new one.
		// EnrollTOTP sets up an app where a test needs one.
		"IDP_MFA_REQUIRED_ROLES=none",
	)
	s.env = append(s.env, s.SMS.Env()...)
	s.env = append(s.env, opts.Env...)
	for _, u := range opts.Users {
		if err := s.addUser(u); err != nil {
			return nil, err
		}
	}
	s.cmd = exec.Command(bin, "serve")
	s.cmd.Env = s.env
	s.cmd.Stdout, s.cmd.Stderr = (*logWriter)(s), (*logWriter)(s)
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("idptest: idp serve: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.done) }() //nolint:errcheck // exit status shown by Log
	if err := s.waitReady(60 * time.Second); err != nil {
		return nil, err
	}
	ok = true
	return s, nil
}

// addUser runs `idp user add` with the password on stdin.
func (s *Server) addUser(u User) error {
	typ := u.Type
	if typ == "" {
		typ = "employee"
	}
	args := []string{"user", "add", "--email", u.Email, "--given-name", u.GivenName,
		"--family-name", u.FamilyName, "--type", typ, "--password-stdin"}
	if u.Phone != "" {
		args = append(args, "--phone", u.Phone)
	}
	for _, r := range u.Roles {
		args = append(args, "--role", r)
	}
	cmd := exec.Command(s.bin, args...)
	cmd.Env = s.env
	cmd.Stdin = strings.NewReader(u.Password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("idptest: idp user add %s: %w\n%s", u.Email, err, out)
	}
	return nil
}

func (s *Server) waitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	hc := &http.Client{Timeout: 2 * time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return fmt.Errorf("idptest: idp serve exited:\n%s", s.Log())
		default:
		}
		resp, err := hc.Get(s.Issuer + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("idptest: idp not ready within %v:\n%s", timeout, s.Log())
}

// Log is what the provider printed so far.
func (s *Server) Log() string {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return s.log.String()
}

type logWriter Server

func (w *logWriter) Write(p []byte) (int, error) {
	w.logMu.Lock()
	defer w.logMu.Unlock()
	return w.log.Write(p)
}

// Stop ends the provider (SIGTERM, then SIGKILL after 10 s), the mail
// server and the SMS gateway, and removes the data directory.
func (s *Server) Stop() error {
	var errs []error
	if s.cmd != nil && s.cmd.Process != nil {
		s.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may have exited
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.cmd.Process.Kill() //nolint:errcheck // may have exited
			<-s.done
		}
	}
	if s.Mail != nil {
		errs = append(errs, s.Mail.Close())
	}
	if s.SMS != nil {
		s.SMS.Close()
	}
	errs = append(errs, os.RemoveAll(s.DataDir))
	return errors.Join(errs...)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}
