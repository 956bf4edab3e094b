package idptest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// RepoRoot is the directory holding go.work: from `go env GOWORK`, else by
// walking up from the working directory.
func RepoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOWORK").Output()
	if err == nil {
		if w := strings.TrimSpace(string(out)); w != "" && w != "off" {
			return filepath.Dir(w), nil
		}
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("idptest: go.work not found above the working directory")
		}
		dir = parent
	}
}

// BuildIdP builds ./idp/cmd/idp (pure Go) into dir and returns the
// binary's path.
func BuildIdP(dir string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "idp")
	cmd := exec.Command("go", "build", "-o", bin, "./idp/cmd/idp")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("idptest: go build ./idp/cmd/idp: %w\n%s", err, out.Bytes())
	}
	return bin, nil
}
