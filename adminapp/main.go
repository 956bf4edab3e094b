// Command cliniconnects-admin is the CliniConnects Identity desktop admin
// app: administrators, assigning managers and super admins manage
// employees, clinicians, roles, OIDC clients and read the audit log over
// the provider's admin API, signed in through the system browser.
//
//	cliniconnects-admin [-issuer https://id.example.com]
//
// The provider URL comes from -issuer, else $CLINICONNECTS_ISSUER, else
// the one used last; on first run the app asks for it.
package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/cliniconnects/identity/adminapp/internal/ui"
)

// appID must match FyneApp.toml: it names the preferences' directory.
const appID = "com.cliniconnects.identity.admin"

const windowTitle = "CliniConnects Admin"

//go:embed Icon.png
var icon []byte

func main() {
	issuer := flag.String("issuer", "", "provider URL (default: $CLINICONNECTS_ISSUER, else the one used last)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: cliniconnects-admin [-issuer URL]\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	iss := *issuer
	if iss == "" {
		iss = os.Getenv("CLINICONNECTS_ISSUER")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	a := app.NewWithID(appID)
	a.SetIcon(fyne.NewStaticResource("Icon.png", icon))
	w := a.NewWindow(windowTitle)
	open := a.OpenURL
	if cmd := os.Getenv("CC_ADMIN_BROWSER"); cmd != "" {
		open = commandOpener(cmd)
	}
	tour := newTour(os.Getenv("CC_ADMIN_SCREENSHOT_TOUR") == "1")
	u := ui.New(ui.Deps{
		Window:     w,
		Prefs:      a.Preferences(),
		OpenURL:    open,
		Issuer:     iss,
		Logger:     logger,
		OnSignedIn: tour.signedIn,
	})
	u.RestoreSize(fyne.NewSize(1200, 760))
	w.SetCloseIntercept(func() {
		u.SaveSize()
		w.Close()
	})
	u.Start()
	tour.start(u)
	w.ShowAndRun()
}

// commandOpener opens URLs with a program of the user's choosing
// (CC_ADMIN_BROWSER), called with the URL as its one argument.
func commandOpener(prog string) func(*url.URL) error {
	return func(u *url.URL) error {
		cmd := exec.Command(prog, u.String())
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Start(); err != nil {
			return err
		}
		go cmd.Wait() //nolint:errcheck // the browser's exit status does not matter
		return nil
	}
}
