package docs

import "regexp"

// Recipe is one question of the analysts' cookbook (analysts.md): its SQL
// and the output the document shows.
type Recipe struct {
	Title, SQL, Output string
	// OutStart and OutEnd are the output's byte range in the document.
	OutStart, OutEnd int
}

var recipeRE = regexp.MustCompile("(?s)## ([0-9]+[.] [^\n]+)\n.*?```sql\n(.*?)\n```\n\n```text\n(.*?)```")

// Recipes parses the cookbook's recipes out of doc (analysts.md's text).
func Recipes(doc string) []Recipe {
	var rs []Recipe
	for _, m := range recipeRE.FindAllStringSubmatchIndex(doc, -1) {
		rs = append(rs, Recipe{Title: doc[m[2]:m[3]], SQL: doc[m[4]:m[5]], Output: doc[m[6]:m[7]], OutStart: m[6], OutEnd: m[7]})
	}
	return rs
}
