package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cliniconnects/identity/idp/internal/storage"
)

// Name pools: a few hundred given and family names give tens of thousands
// of combinations, so searches match realistic fractions of the directory.
// "smi" (Smith, Smithson, Goldsmith, Smits, Smirnov, …) matches a few
// percent of users; "okafor" about one in two hundred.
var givenNames = strings.Fields(`
Aaliyah Aaron Abigail Adam Adaeze Adrian Ahmed Aisha Alan Alejandro Alex Alice Alicia Amanda Amara Amelia Amir Ana
Andrea Andrew Angela Anika Anna Anthony Arjun Ashley Ava Ayesha Barbara Benjamin Beth Bianca Brandon Brenda Brian
Bridget Caleb Camila Carlos Carmen Caroline Catherine Charles Chen Chidi Chloe Christina Christopher Claire Daniel
Daniela David Deborah Deepa Denise Diana Diego Dmitri Dolores Donna Dylan Elena Elijah Elizabeth Ella Emeka Emily
Emma Eric Erin Esther Ethan Eva Fatima Felipe Fiona Francesca Gabriel Gloria Grace Hannah Hao Harper Hector Helen
Hiroshi Hugo Ian Imani Irene Isaac Isabella Ivan Jack Jacob James Jamal Janet Jasmine Javier Jennifer Jessica Joanna
John Jorge Jose Joseph Joshua Joy Juan Julia Julian Kamala Karen Kate Kavya Keisha Kelly Kenji Kevin Kim Kofi Laura
Lauren Layla Leah Leo Liam Lily Linda Lucas Lucia Luis Lydia Madison Malik Manuel Margaret Maria Mariam Mark Marta
Mary Mason Mateo Matthew Maya Megan Mei Melissa Mia Michael Michelle Miguel Mohammed Monica Nadia Nancy Naomi Natalia
Nathan Nia Nicholas Nicole Nina Noah Nora Oliver Olivia Omar Oscar Pablo Patricia Patrick Paul Pedro Peter Priya
Rachel Rafael Rahul Rebecca Ricardo Robert Rosa Ruth Ryan Samantha Samuel Sandra Sara Sarah Sean Sofia Sophia
Stephanie Steven Susan Tanya Teresa Thomas Tiffany Timothy Tomas Tyler Uchenna Valentina Vanessa Victor Victoria
Vikram Walter Wei William Xavier Yasmin Yuki Yusuf Zainab Zara Zoe`)

var familyNames = strings.Fields(`
Abbott Acheampong Adams Adeyemi Aguilar Ahmed Akhtar Alexander Ali Allen Alvarez Anderson Andrews Armstrong Bailey
Baker Banerjee Barnes Bell Bennett Bhatt Brooks Brown Bryant Butler Campbell Carter Castillo Castro Chan Chang
Chaudhry Chavez Chen Clark Coleman Collins Cook Cooper Cruz Das Davies Davis Diaz Dubois Edwards Ellis Evans
Ferguson Fernandez Fischer Fisher Flores Ford Foster Garcia Gibson Goldsmith Gomez Gonzalez Gordon Graham Grant
Gray Green Greene Griffin Gupta Gutierrez Hall Hamilton Harris Hayes Henderson Hernandez Hill Hoang Holmes Howard
Hughes Hunt Ibrahim Iyer Jackson James Jenkins Jimenez Johnson Jones Jordan Joshi Kaur Kelly Kennedy Khan Kim King
Kowalski Kumar Lee Lewis Li Lin Liu Lopez Martin Martinez Mason Mehta Mendoza Meyer Miller Mitchell Moore Morales
Morgan Morris Murphy Murray Nakamura Nguyen Nwosu Obi Okafor Oliveira O'Brien O'Connor Ortiz Owens Palmer Park Patel
Perez Perry Peterson Phillips Powell Price Ramirez Ramos Reed Reyes Reynolds Richardson Rivera Roberts Robinson
Rodriguez Rogers Romero Ross Russell Sanchez Sanders Santos Schmidt Schneider Scott Shah Sharma Silva Simmons Singh
Smirnov Smith Smithers Smithson Smits Stewart Sullivan Suzuki Tanaka Taylor Thomas Thompson Torres Tran Turner
Wagner Walker Wallace Wang Ward Washington Watson Weber White Williams Wilson Wong Wood Wright Wu Yamamoto Yang
Young Zhang Zhou`)

var (
	disciplines = []string{"RN", "LPN", "PT", "PTA", "OT", "COTA", "SLP", "HHA", "MSW", "CNA"}
	departments = []string{"Intake", "Scheduling", "Billing", "Quality", "Clinical Operations", "IT", "HR", "Compliance"}
	jobTitles   = []string{"Coordinator", "Specialist", "Manager", "Analyst", "Director", "Assistant"}
	domains     = []string{"cliniconnects.example", "homecare.example", "therapy-partners.example"}
)

// benchUser is the i-th seeded user: deterministic, with a unique email
// and (for 40 %) a unique phone. 70 % are clinicians; 90 % active, 7 %
// invited, 3 % disabled; about 1 % hold an administrative role.
func benchUser(i int) storage.User {
	r := rand.New(rand.NewPCG(uint64(i), 0x1d9be7c4))
	given := givenNames[r.IntN(len(givenNames))]
	family := familyNames[r.IntN(len(familyNames))]
	u := storage.User{
		GivenName:     given,
		FamilyName:    family,
		Email:         fmt.Sprintf("%s.%s.%d@%s", emailPart(given), emailPart(family), i, domains[r.IntN(len(domains))]),
		EmailVerified: true,
		Status:        storage.StatusActive,
	}
	if r.IntN(10) < 7 {
		u.Type = storage.UserTypeClinician
		u.Discipline = disciplines[r.IntN(len(disciplines))]
		u.JobTitle = "Field Clinician"
	} else {
		u.Type = storage.UserTypeEmployee
		u.Department = departments[r.IntN(len(departments))]
		u.JobTitle = jobTitles[r.IntN(len(jobTitles))]
	}
	switch s := r.IntN(100); {
	case s < 7:
		u.Status, u.EmailVerified = storage.StatusInvited, false
	case s < 10:
		u.Status = storage.StatusDisabled
	}
	if r.IntN(10) < 4 {
		u.Phone = fmt.Sprintf("+1555%07d", i%10_000_000)
	}
	switch s := r.IntN(1000); {
	case s < 2:
		u.Roles = []storage.Role{storage.RoleSuperAdmin}
	case s < 7:
		u.Roles = []storage.Role{storage.RoleAdmin}
	case s < 10:
		u.Roles = []storage.Role{storage.RoleAssigningManager}
	}
	return u
}

func emailPart(name string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, strings.ToLower(name))
}

// txRunner is storage.Lifecycle's InTx, used for batched seeding when the
// store has it.
type txRunner interface {
	InTx(ctx context.Context, fn func(tx storage.Storage) error) error
}

// seedBatch is how many users one transaction inserts when the store has
// InTx.
const seedBatch = 500

// seedUsers inserts n benchUsers with workers goroutines and returns their
// IDs, sorted, and how it inserted them.
func seedUsers(ctx context.Context, st storage.Storage, n, workers int) ([]string, string, error) {
	tx, batched := st.(txRunner)
	method := fmt.Sprintf("CreateUser, one transaction per user, %d goroutines", workers)
	if batched {
		method = fmt.Sprintf("CreateUser inside InTx, %d users per transaction, %d goroutines", seedBatch, workers)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		mu       sync.Mutex
		ids      = make([]string, 0, n)
		firstErr error
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if firstErr == nil {
			firstErr = err
		}
		mu.Unlock()
		cancel()
	}
	for range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				lo := int(next.Add(seedBatch)) - seedBatch
				if lo >= n {
					return
				}
				hi := min(lo+seedBatch, n)
				var got []string
				insert := func(s storage.Storage) error {
					got = got[:0] // InTx may run the batch again
					for i := lo; i < hi; i++ {
						u, err := s.CreateUser(ctx, benchUser(i))
						if err != nil {
							return fmt.Errorf("seed user %d: %w", i, err)
						}
						got = append(got, u.ID)
					}
					return nil
				}
				var err error
				if batched {
					err = tx.InTx(ctx, insert)
				} else {
					err = insert(st)
				}
				if err != nil {
					fail(err)
					return
				}
				mu.Lock()
				ids = append(ids, got...)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return nil, method, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, method, err
	}
	slices.Sort(ids)
	return ids, method, nil
}
