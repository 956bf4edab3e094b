package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"fyne.io/fyne/v2"

	"github.com/cliniconnects/identity/adminapp/internal/ui"
)

// tour walks through the app's main screens for the documentation's
// screenshots (CC_ADMIN_SCREENSHOT_TOUR=1, driven by make screenshots):
// before each screen it prints "screen <name>" on stdout and waits for a
// line on stdin, when the screenshot has been taken. Sign-in is the real
// one: the browser (CC_ADMIN_BROWSER) completes the provider's form.
// CC_SHOT_CLINICIAN names the clinician whose Mobile credential is shown.
type tour struct {
	on     bool
	signed chan struct{}
}

func newTour(on bool) *tour { return &tour{on: on, signed: make(chan struct{}, 1)} }

func (t *tour) signedIn() {
	if t.on {
		select {
		case t.signed <- struct{}{}:
		default:
		}
	}
}

func (t *tour) start(u *ui.UI) {
	if t.on {
		go t.run(u)
	}
}

func (t *tour) run(u *ui.UI) {
	in := bufio.NewScanner(os.Stdin)
	shot := func(name string) {
		wait(u)
		time.Sleep(time.Second) // a repaint
		fmt.Println("screen", name)
		if !in.Scan() {
			os.Exit(1)
		}
	}
	time.Sleep(time.Second)
	shot("sign-in")
	fyne.Do(u.StartSignIn)
	select {
	case <-t.signed:
	case <-time.After(60 * time.Second):
		fmt.Fprintln(os.Stderr, "tour: sign-in did not complete")
		os.Exit(1)
	}
	shot("employees")
	fyne.Do(u.OpenFirstRecord)
	shot("employee-detail")
	if who := os.Getenv("CC_SHOT_CLINICIAN"); who != "" {
		// A clinician's record, scrolled down to the Mobile credential.
		fyne.Do(func() { u.ShowSection("Clinicians") })
		wait(u)
		fyne.Do(func() { u.Search(who) })
		wait(u)
		fyne.Do(u.OpenFirstRecord)
		wait(u)
		fyne.Do(u.ScrollRecordToEnd)
		shot("clinician-mobile")
	}
	for _, s := range []string{"Clients", "Audit"} {
		fyne.Do(func() { u.ShowSection(s) })
		wait(u)
		fyne.Do(u.OpenFirstRecord)
		shot(map[string]string{"Clients": "clients", "Audit": "audit"}[s])
	}
	fmt.Println("done")
	fyne.Do(fyne.CurrentApp().Quit)
}

// wait waits (up to 30 s) until no request of the UI is in flight.
func wait(u *ui.UI) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		busy := true
		fyne.DoAndWait(func() { busy = u.Busy() })
		if !busy {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}
