// Command screenshots takes the README's screenshots of the admin app
// (make screenshots): it starts a local provider (idp serve on SQLite),
// seeds it with sample data through the admin API, starts Xvfb, runs the
// real app binary against the provider, and captures the screen with
// ImageMagick's import at each step of the app's screenshot tour
// (CC_ADMIN_SCREENSHOT_TOUR=1).
//
// Sign-in is the real one: the app opens its browser, which is this
// program called with the authorization URL (CC_ADMIN_BROWSER); it fills
// in the provider's sign-in form over HTTP.
//
//	screenshots -idp bin/idp -app bin/cliniconnects-admin -out adminapp/docs/screenshots
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cliniconnects/identity/adminapp/internal/auth"
	"github.com/cliniconnects/identity/adminapp/internal/idptest"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// The sample super admin the app signs in as.
var admin = idptest.User{Email: "morgan.reyes@cliniconnects.example", Password: "harbor-lantern-quietly-1987",
	GivenName: "Morgan", FamilyName: "Reyes", Roles: []string{"super_admin"}}

// Screen size; the app's window fills it.
const width, height = 1200, 760

// importCmd is ImageMagick's import, by its full path (another "import"
// or "convert" may come first on PATH).
const importCmd = "/usr/bin/import"

func main() {
	// Called as the app's browser: complete the sign-in form.
	if len(os.Args) == 2 && strings.HasPrefix(os.Args[1], "http") {
		if err := browse(os.Args[1]); err != nil {
			fmt.Fprintln(os.Stderr, "screenshots browser:", err)
			os.Exit(1)
		}
		return
	}
	idpBin := flag.String("idp", "bin/idp", "the idp binary")
	appBin := flag.String("app", "bin/cliniconnects-admin", "the admin app binary")
	out := flag.String("out", "adminapp/docs/screenshots", "directory for the PNGs")
	flag.Parse()
	if err := run(*idpBin, *appBin, *out); err != nil {
		fmt.Fprintln(os.Stderr, "screenshots:", err)
		os.Exit(1)
	}
}

func browse(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	return idptest.NewBrowser(os.Getenv("CC_SHOT_EMAIL"), os.Getenv("CC_SHOT_PASSWORD")).Open(u)
}

func run(idpBin, appBin, out string) error {
	for _, p := range []string{idpBin, appBin, importCmd} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	idpBin, _ = filepath.Abs(idpBin)
	appBin, _ = filepath.Abs(appBin)
	out, _ = filepath.Abs(out)

	fmt.Println("starting the provider and seeding sample data")
	idp, err := idptest.Start(idpBin, idptest.Options{Users: append([]idptest.User{admin, mobileClinician}, activeStaff...)})
	if err != nil {
		return err
	}
	defer idp.Stop()
	if err := seed(idp); err != nil {
		return fmt.Errorf("seeding: %w\n%s", err, idp.Log())
	}

	display, stopX, err := startXvfb()
	if err != nil {
		return err
	}
	defer stopX()

	home, err := os.MkdirTemp("", "screenshots-home-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(home)
	self, err := os.Executable()
	if err != nil {
		return err
	}
	app := exec.Command(appBin)
	app.Env = append(os.Environ(),
		"DISPLAY="+display, "LANG=en_US.UTF-8", "HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"), "XDG_CACHE_HOME="+filepath.Join(home, "cache"),
		"FYNE_THEME=light",
		"CLINICONNECTS_ISSUER="+idp.Issuer,
		"CC_ADMIN_BROWSER="+self, "CC_SHOT_EMAIL="+admin.Email, "CC_SHOT_PASSWORD="+admin.Password,
		"CC_ADMIN_SCREENSHOT_TOUR=1", "CC_SHOT_CLINICIAN="+mobileClinician.Email,
	)
	// The window fills the screen (no window manager places it).
	if err := writePrefs(filepath.Join(home, "config")); err != nil {
		return err
	}
	stdin, err := app.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := app.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr strings.Builder
	app.Stderr = io.MultiWriter(&stderr, os.Stderr)
	if err := app.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			name, ok := strings.CutPrefix(line, "screen ")
			if !ok {
				continue
			}
			file := filepath.Join(out, name+".png")
			shot := exec.Command(importCmd, "-display", display, "-window", "root", "-strip", file)
			if b, err := shot.CombinedOutput(); err != nil {
				done <- fmt.Errorf("import %s: %w\n%s", file, err, b)
				return
			}
			fmt.Println("wrote", file)
			fmt.Fprintln(stdin)
		}
		done <- nil
	}()
	wait := make(chan error, 1)
	go func() { wait <- app.Wait() }()
	select {
	case err = <-done:
		if err == nil {
			err = <-wait
		}
	case err = <-wait:
	case <-time.After(3 * time.Minute):
		app.Process.Kill()
		err = errors.New("the app did not finish its tour in 3 minutes")
	}
	if err != nil {
		return fmt.Errorf("app: %w", err)
	}
	if strings.Contains(stderr.String(), "Error in Fyne call thread") {
		return errors.New("the app touched the UI off the UI goroutine (see its log above)")
	}
	return nil
}

// writePrefs sizes the window to the screen.
func writePrefs(config string) error {
	dir := filepath.Join(config, "fyne", "com.cliniconnects.identity.admin")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "preferences.json"),
		[]byte(fmt.Sprintf(`{"window.width":%d,"window.height":%d}`, width, height)), 0o600)
}

// startXvfb starts a virtual screen on a free display number.
func startXvfb() (string, func(), error) {
	for n := 99; n < 140; n++ {
		if _, err := os.Stat(fmt.Sprintf("/tmp/.X%d-lock", n)); err == nil {
			continue
		}
		display := ":" + strconv.Itoa(n)
		x := exec.Command("Xvfb", display, "-screen", "0", fmt.Sprintf("%dx%dx24", width, height), "-nolisten", "tcp")
		if err := x.Start(); err != nil {
			return "", nil, fmt.Errorf("Xvfb: %w", err)
		}
		sock := fmt.Sprintf("/tmp/.X11-unix/X%d", n)
		for range 100 {
			if _, err := os.Stat(sock); err == nil {
				return display, func() { x.Process.Kill(); x.Wait() }, nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		x.Process.Kill()
		x.Wait()
	}
	return "", nil, errors.New("no free X display for Xvfb")
}

// mobileClinician is an active clinician (seeded with idp user add) to
// whom the seed sends a mobile activation code: the screenshot of her
// Mobile credential shows it pending.
var mobileClinician = idptest.User{Email: "amara.nwosu@cliniconnects.example", Password: "indigo-harbor-lattice-6604",
	GivenName: "Amara", FamilyName: "Nwosu", Type: "clinician", Phone: "+14155550115"}

// activeStaff have set their password (seeded with idp user add).
var activeStaff = []idptest.User{
	{Email: "priya.shah@cliniconnects.example", Password: "velvet-canyon-orbit-2231", GivenName: "Priya", FamilyName: "Shah", Roles: []string{"admin"}},
	{Email: "daniel.okafor@cliniconnects.example", Password: "marble-thistle-voyage-8812", GivenName: "Daniel", FamilyName: "Okafor", Roles: []string{"assigning_manager"}},
	{Email: "elena.petrova@cliniconnects.example", Password: "juniper-quartz-harvest-4470", GivenName: "Elena", FamilyName: "Petrova"},
	{Email: "samuel.kim@cliniconnects.example", Password: "cobalt-meadow-lantern-5521", GivenName: "Samuel", FamilyName: "Kim"},
	{Email: "fatima.haddad@cliniconnects.example", Password: "saffron-glacier-tundra-3019", GivenName: "Fatima", FamilyName: "Haddad"},
}

// seed adds sample records through the admin API, signed in as admin
// (which also fills the audit log).
func seed(idp *idptest.Server) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p, err := auth.Discover(ctx, idp.Issuer, nil)
	if err != nil {
		return err
	}
	s, err := p.SignIn(ctx, auth.Options{OpenBrowser: idptest.NewBrowser(admin.Email, admin.Password).Open})
	if err != nil {
		return err
	}
	c := adminapi.NewClient(idp.Issuer, nil, s.AccessToken)
	profiles := map[string][2]string{
		"priya.shah": {"Operations Director", "Operations"}, "daniel.okafor": {"Scheduling Manager", "Scheduling"},
		"elena.petrova": {"HR Specialist", "Human Resources"}, "samuel.kim": {"Billing Analyst", "Finance"},
		"fatima.haddad": {"Intake Coordinator", "Intake"},
	}
	list, err := c.ListEmployees(ctx, adminapi.ListUsersOptions{Limit: 100})
	if err != nil {
		return err
	}
	for _, u := range list.Items {
		if pr, ok := profiles[strings.Split(u.Email, "@")[0]]; ok {
			if _, err := c.UpdateEmployee(ctx, u.ID, u.Version, adminapi.EmployeeUpdate{JobTitle: &pr[0], Department: &pr[1]}); err != nil {
				return err
			}
		}
	}
	invited := []adminapi.NewEmployee{
		{GivenName: "Liam", FamilyName: "O'Connor", Email: "liam.oconnor@cliniconnects.example", JobTitle: "Payroll Clerk", Department: "Finance"},
		{GivenName: "Mei", FamilyName: "Tanaka", Email: "mei.tanaka@cliniconnects.example", JobTitle: "Recruiter", Department: "Human Resources"},
		{GivenName: "Jonas", FamilyName: "Berg", Email: "jonas.berg@cliniconnects.example", JobTitle: "IT Support", Department: "IT", Phone: "+14155550142"},
	}
	for _, e := range invited {
		if _, err := c.CreateEmployee(ctx, e); err != nil {
			return err
		}
	}
	clin := []adminapi.NewClinician{
		{GivenName: "Grace", FamilyName: "Mensah", Email: "grace.mensah@cliniconnects.example", Phone: "+14155550111", Discipline: "RN"},
		{GivenName: "Tomás", FamilyName: "Alvarez", Email: "tomas.alvarez@cliniconnects.example", Phone: "+14155550112", Discipline: "PT"},
		{GivenName: "Aisha", FamilyName: "Bello", Email: "aisha.bello@cliniconnects.example", Phone: "+14155550113", Discipline: "OT"},
		{GivenName: "Noah", FamilyName: "Fischer", Email: "noah.fischer@cliniconnects.example", Phone: "+14155550114", Discipline: "HHA"},
	}
	for i, n := range clin {
		v, err := c.CreateClinician(ctx, n)
		if err != nil {
			return err
		}
		if i == 3 {
			if _, err := c.DisableClinician(ctx, v.ID); err != nil {
				return err
			}
		}
	}
	if err := seedMobile(ctx, c); err != nil {
		return err
	}
	clients := []adminapi.NewOIDCClient{
		{ID: "scheduling-web", Name: "Scheduling (web)", RedirectURIs: []string{"https://scheduling.cliniconnects.example/callback"},
			PostLogoutRedirectURIs: []string{"https://scheduling.cliniconnects.example/"}, AdmitTypes: []adminapi.UserType{adminapi.UserTypeEmployee}},
		{ID: "clinician-mobile", Name: "Clinician mobile app", Public: true, RedirectURIs: []string{"com.cliniconnects.mobile:/oauth2redirect"},
			AdmitTypes: []adminapi.UserType{adminapi.UserTypeClinician}},
		{ID: "reports-service", Name: "Reports service", GrantTypes: []string{"client_credentials"}},
	}
	for _, n := range clients {
		if _, err := c.CreateClient(ctx, n); err != nil {
			return err
		}
	}
	return s.SignOut(ctx, nil)
}

// seedMobile gives mobileClinician a discipline and a profile, and sends
// her a mobile activation code (the SMS goes to the test gateway).
func seedMobile(ctx context.Context, c *adminapi.Client) error {
	l, err := c.ListClinicians(ctx, adminapi.ListUsersOptions{Search: mobileClinician.Email})
	if err != nil {
		return err
	}
	if len(l.Items) != 1 {
		return fmt.Errorf("%d clinicians match %s", len(l.Items), mobileClinician.Email)
	}
	v := l.Items[0]
	rn, title, dept := "RN", "Home Health Nurse", "Home Health"
	if _, err := c.UpdateClinician(ctx, v.ID, v.Version, adminapi.ClinicianUpdate{Discipline: &rn, JobTitle: &title, Department: &dept}); err != nil {
		return err
	}
	_, err = c.SendClinicianMobileActivation(ctx, v.ID)
	return err
}
