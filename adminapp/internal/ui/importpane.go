package ui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/cliniconnects/identity/adminapp/internal/bulk"
	"github.com/cliniconnects/identity/shared/adminapi"
)

// scanAbove: for imports of more rows than this, the dry run reads every
// account once instead of searching the address of each row.
const scanAbove = 20

// importPane imports employees or clinicians from a CSV file: a dry run
// checks every row and lists the problems by row before anything is
// created; then the valid rows are created with a progress bar that can be
// cancelled, ending with a summary and a CSV of what failed.
type importPane struct {
	s *usersSection
	u *UI

	path     *widget.Label
	chooseB  *widget.Button
	summary  status
	problems *widget.List
	start    *widget.Button
	cancelB  *widget.Button
	saveFail *widget.Button
	progress *widget.ProgressBar
	root     fyne.CanvasObject

	file    bulk.File
	found   []bulk.Problem // the dry run's problems
	result  *bulk.Result
	stop    context.CancelFunc
	running bool
}

func newImportPane(s *usersSection) *importPane {
	p := &importPane{s: s, u: s.u, path: widget.NewLabel("No file chosen."), summary: newStatus(), progress: widget.NewProgressBar()}
	p.path.Truncation = fyne.TextTruncateEllipsis
	p.chooseB = widget.NewButton("Choose CSV file…", p.choose)
	p.problems = widget.NewList(
		func() int { return len(p.found) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(p.found[i].String()) })
	p.start = widget.NewButton("Import", p.run)
	p.start.Importance = widget.HighImportance
	p.start.Disable()
	p.cancelB = widget.NewButton("Cancel", p.cancel)
	p.saveFail = widget.NewButton("Save failed rows as CSV…", p.saveFailed)
	p.saveFail.Hide()
	p.progress.Hide()
	help := widget.NewLabel("Columns: " + strings.Join(bulk.Columns(s.kind.typ), ", ") +
		". The first row names the columns. Every row is checked before anything is created; each " +
		s.kind.singular + " created gets an invitation by email.")
	help.Wrapping = fyne.TextWrapWord
	top := container.NewVBox(
		heading("Import "+strings.ToLower(s.kind.title)+" from CSV"),
		help,
		container.NewBorder(nil, nil, nil, p.chooseB, p.path),
		p.summary.Label,
	)
	bottom := container.NewVBox(p.progress, container.NewHBox(p.start, p.cancelB, p.saveFail))
	p.root = padded(container.NewBorder(top, bottom, nil, nil, p.problems))
	return p
}

func (p *importPane) choose() {
	if p.running {
		return
	}
	p.u.d.Files.Open(p.load)
}

// load reads path and runs the dry run.
func (p *importPane) load(path string) {
	p.path.SetText(filepath.Base(path))
	p.found, p.result = nil, nil
	p.problems.Refresh()
	p.start.Disable()
	p.saveFail.Hide()
	p.chooseB.Disable()
	p.summary.info("Checking every row…")
	p.progress.SetValue(0)
	p.progress.Show()
	assignable := p.u.me.AssignableRoles
	lists := p.readableLists()
	type dry struct {
		file     bulk.File
		problems []bulk.Problem
	}
	run(p.u, func(ctx context.Context) (dry, error) {
		f, err := os.Open(path)
		if err != nil {
			return dry{}, err
		}
		defer f.Close()
		file, err := bulk.Read(f, p.s.kind.typ)
		if err != nil {
			return dry{}, err
		}
		probs := bulk.Check(file, assignable)
		taken, err := bulk.CheckExisting(ctx, file, probs, existence(lists, len(file.Rows)), func(done, total int) {
			if done%10 == 0 || done == total {
				p.u.d.Do(func() { p.progress.SetValue(float64(done) / float64(total)) })
			}
		})
		if err != nil {
			return dry{}, err
		}
		probs = append(probs, taken...)
		bulk.SortProblems(probs)
		return dry{file, probs}, nil
	}, func(r dry, err error) {
		p.chooseB.Enable()
		p.progress.Hide()
		var pe *os.PathError
		switch {
		case errors.Is(err, bulk.ErrFile):
			p.summary.fail(err.Error())
			return
		case errors.As(err, &pe):
			p.summary.fail("Cannot read " + pe.Path + " (" + pe.Err.Error() + ").")
			return
		case err != nil:
			p.summary.fail("The check did not finish: " + p.u.message(err))
			return
		}
		p.file, p.found = r.file, r.problems
		p.problems.Refresh()
		bad := len(bulk.Lines(r.problems))
		good := len(r.file.Rows) - bad
		switch {
		case bad == 0:
			p.summary.success(fmt.Sprintf("All %d rows are ready to import.", good))
		default:
			p.summary.fail(fmt.Sprintf("%d of %d rows have problems (listed below) and will not be imported; %d are ready.", bad, len(r.file.Rows), good))
		}
		p.start.SetText(fmt.Sprintf("Import %d %ss", good, p.s.kind.singular))
		if good > 0 {
			p.start.Enable()
		}
		if bad > 0 {
			p.saveFail.Show()
		}
	})
}

// readableLists are the sections the signed-in user may read.
func (p *importPane) readableLists() []userAPI {
	var lists []userAPI
	for _, k := range []userKind{employees, clinicians} {
		if p.u.can(k.read) {
			lists = append(lists, userAPI{c: p.u.api, k: k})
		}
	}
	return lists
}

// existence says whether an address has an account in lists (addresses
// are unique across all users): for a few rows by searching each address,
// for more by reading every account once.
func existence(lists []userAPI, rows int) bulk.Exists {
	search := func(ctx context.Context, email string) (bool, error) {
		for _, l := range lists {
			r, err := l.list(ctx, adminapi.ListUsersOptions{Search: email, Limit: 20})
			if err != nil {
				return false, err
			}
			for _, v := range r.Items {
				if strings.EqualFold(v.Email, email) {
					return true, nil
				}
			}
		}
		return false, nil
	}
	var once sync.Once
	var all map[string]bool
	var allErr error
	scan := func(ctx context.Context, email string) (bool, error) {
		once.Do(func() {
			all = map[string]bool{}
			for _, l := range lists {
				cursor := ""
				for {
					r, err := l.list(ctx, adminapi.ListUsersOptions{Cursor: cursor, Limit: 500})
					if err != nil {
						allErr = err
						return
					}
					for _, v := range r.Items {
						all[strings.ToLower(v.Email)] = true
					}
					if cursor = r.NextCursor; cursor == "" {
						break
					}
				}
			}
		})
		return all[strings.ToLower(email)], allErr
	}
	if rows > scanAbove {
		return scan
	}
	return search
}

// run creates the rows without problems.
func (p *importPane) run() {
	if p.running || p.start.Disabled() {
		return
	}
	bad := bulk.Lines(p.found)
	var rows []bulk.Row
	for _, r := range p.file.Rows {
		if !bad[r.Line] {
			rows = append(rows, r)
		}
	}
	ctx, cancel := context.WithCancel(p.u.sessionCtx)
	p.stop, p.running = cancel, true
	p.start.Disable()
	p.chooseB.Disable()
	p.saveFail.Hide()
	p.progress.SetValue(0)
	p.progress.Show()
	p.summary.info(fmt.Sprintf("Creating %d %ss…", len(rows), p.s.kind.singular))
	api := p.s.api
	go func() {
		res := bulk.Run(ctx, rows, func(ctx context.Context, r bulk.Row) error {
			_, err := api.create(ctx, profile{GivenName: r.GivenName, FamilyName: r.FamilyName, Email: r.Email,
				Phone: r.Phone, Discipline: strings.ToUpper(r.Discipline), JobTitle: r.JobTitle, Department: r.Department}, r.Roles)
			return err
		}, func(done, total int) {
			p.u.d.Do(func() {
				p.progress.SetValue(float64(done) / float64(total))
				p.summary.info(fmt.Sprintf("Created %d of %d…", done, total))
			})
		})
		cancel()
		p.u.d.Do(func() { p.finished(res) })
	}()
}

func (p *importPane) finished(res bulk.Result) {
	p.running, p.stop = false, nil
	p.result = &res
	p.chooseB.Enable()
	p.progress.Hide()
	msg := fmt.Sprintf("Created %d %ss; an invitation was sent to each.", res.Created, p.s.kind.singular)
	if n := len(res.Failed); n > 0 {
		msg += fmt.Sprintf(" %d refused by the server.", n)
	}
	if n := len(res.NotRun); n > 0 {
		msg += fmt.Sprintf(" %d not imported (cancelled).", n)
	}
	if n := len(p.found); n > 0 {
		msg += fmt.Sprintf(" %d skipped by the check.", len(bulk.Lines(p.found)))
	}
	if len(res.Failed) > 0 || len(res.NotRun) > 0 {
		p.summary.fail(msg)
	} else {
		p.summary.success(msg)
	}
	// The problems list now shows every row that was not created.
	for _, f := range res.Failed {
		p.found = append(p.found, bulk.Problem{Line: f.Row.Line, Message: f.Message})
	}
	for _, r := range res.NotRun {
		p.found = append(p.found, bulk.Problem{Line: r.Line, Message: "not imported (cancelled)"})
	}
	bulk.SortProblems(p.found)
	p.problems.Refresh()
	if len(p.found) > 0 {
		p.saveFail.Show()
	}
	p.s.reload()
}

// cancel stops a running import (rows already sent finish), or closes
// the pane.
func (p *importPane) cancel() {
	if p.running {
		if p.stop != nil {
			p.stop()
		}
		p.summary.info("Cancelling…")
		return
	}
	p.s.closeRight()
}

// failures are the rows not created, with why.
func (p *importPane) failures() []bulk.Failure {
	byLine := map[int]bulk.Row{}
	for _, r := range p.file.Rows {
		byLine[r.Line] = r
	}
	msgs := map[int][]string{}
	var order []int
	for _, pr := range p.found {
		if _, ok := msgs[pr.Line]; !ok {
			order = append(order, pr.Line)
		}
		m := pr.Message
		if pr.Field != "" {
			m = pr.Field + " " + m
		}
		msgs[pr.Line] = append(msgs[pr.Line], m)
	}
	var out []bulk.Failure
	for _, l := range order {
		out = append(out, bulk.Failure{Row: byLine[l], Message: strings.Join(msgs[l], "; ")})
	}
	return out
}

func (p *importPane) saveFailed() {
	fails := p.failures()
	p.u.d.Files.Save("failed-"+strings.ToLower(p.s.kind.title)+".csv", func(path string) {
		err := writeFile(path, func(f *os.File) error { return bulk.WriteFailed(f, p.file, fails) })
		if err != nil {
			p.summary.fail("Could not save: " + p.u.fileMessage(err))
			return
		}
		p.summary.success(fmt.Sprintf("Saved %d rows that were not imported to %s.", len(fails), path))
	})
}
