package main

import (
	"fmt"
	"strings"
)

// getopt splits args as getopt(3) does and returns the operands: options
// may be grouped (-nI), the letters in withValue take a value attached
// (-m5) or as the next word, options and operands may come in any order,
// and "--" ends the options. opt gets each option letter with its value
// ("" for letters without one), long each "--word". missing formats the
// error for a value-taking letter at the end of args (%c is the letter):
// each tool words it as the program it imitates does.
func getopt(args []string, withValue, missing string, long func(string) error, opt func(c byte, val string) error) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return append(rest, args[i+1:]...), nil
		case strings.HasPrefix(a, "--"):
			if err := long(a); err != nil {
				return nil, err
			}
			continue
		case len(a) < 2 || a[0] != '-':
			rest = append(rest, a)
			continue
		}
		for j := 1; j < len(a); j++ {
			c := a[j]
			if !strings.ContainsRune(withValue, rune(c)) {
				if err := opt(c, ""); err != nil {
					return nil, err
				}
				continue
			}
			val := a[j+1:]
			if val == "" {
				if i+1 >= len(args) {
					return nil, fmt.Errorf(missing, c)
				}
				i++
				val = args[i]
			}
			if err := opt(c, val); err != nil {
				return nil, err
			}
			break
		}
	}
	return rest, nil
}
