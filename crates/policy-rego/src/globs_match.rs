//! `regex.globs_match(glob1, glob2)`: whether some non-empty string matches both globs, as
//! OPA answers it (github.com/yashtewari/glob-intersection). Both globs are rooted at both
//! ends; the only special symbols are `.` (any character), `*` and `+` (zero/one or more of
//! the preceding item), `[...]` classes with `-` ranges, and `\` escaping any of them (so
//! `?`, `^`, `(` are literal characters). Written here because no crate answers this: the
//! globs become small automata whose product is searched breadth-first, O(len1 × len2).

use regorus::Value as RegoValue;

/// Longest glob accepted: the product search visits up to 2 × len1 × len2 states.
const MAX_GLOB_CHARS: usize = 2048;

pub(crate) fn globs_match(params: Vec<RegoValue>) -> anyhow::Result<RegoValue> {
    let (Some(RegoValue::String(a)), Some(RegoValue::String(b))) = (params.first(), params.get(1))
    else {
        anyhow::bail!("regex.globs_match: operands 1 and 2 must be strings");
    };
    let (a, b) = (parse(a)?, parse(b)?);
    Ok(RegoValue::from(intersect(&a, &b)))
}

#[derive(Debug, Clone)]
enum Chars {
    Any,
    Ranges(Vec<(char, char)>),
}

impl Chars {
    fn overlaps(&self, other: &Chars) -> bool {
        match (self, other) {
            (Chars::Any, _) | (_, Chars::Any) => true,
            (Chars::Ranges(x), Chars::Ranges(y)) => x
                .iter()
                .any(|(lo, hi)| y.iter().any(|(l, h)| lo <= h && l <= hi)),
        }
    }
}

/// One position of the automaton: a character set, repeated (`*`) or taken once.
#[derive(Debug)]
struct Item {
    chars: Chars,
    repeated: bool,
}

fn parse(glob: &str) -> anyhow::Result<Vec<Item>> {
    let chars: Vec<char> = glob.chars().collect();
    if chars.len() > MAX_GLOB_CHARS {
        anyhow::bail!("regex.globs_match: a glob longer than {MAX_GLOB_CHARS} characters");
    }
    let bad = |pos: usize, why: &str| {
        anyhow::anyhow!("regex.globs_match: input:{glob}, pos:{}, {why}", pos + 1)
    };
    let mut items: Vec<Item> = Vec::new();
    // Whether the last item may take a modifier (a modifier cannot follow a modifier).
    let mut modifiable = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' | '+' => {
                let Some(last) = items.last_mut().filter(|_| modifiable) else {
                    return Err(bad(i, &format!("modifier '{c}' with nothing to modify")));
                };
                if c == '*' {
                    last.repeated = true;
                } else {
                    // x+ is x x*.
                    let chars = last.chars.clone();
                    items.push(Item {
                        chars,
                        repeated: true,
                    });
                }
                modifiable = false;
                i += 1;
                continue;
            }
            ']' => return Err(bad(i, "set-close ']' with no preceding '['")),
            '.' => items.push(Item {
                chars: Chars::Any,
                repeated: false,
            }),
            '\\' => {
                let Some(&next) = chars.get(i + 1) else {
                    return Err(bad(i, "escape '\\' at the end"));
                };
                items.push(Item {
                    chars: Chars::Ranges(vec![(next, next)]),
                    repeated: false,
                });
                i += 1;
            }
            '[' => {
                let (ranges, end) = class(&chars, i + 1).map_err(|(pos, why)| bad(pos, why))?;
                items.push(Item {
                    chars: Chars::Ranges(ranges),
                    repeated: false,
                });
                i = end;
            }
            literal => items.push(Item {
                chars: Chars::Ranges(vec![(literal, literal)]),
                repeated: false,
            }),
        }
        modifiable = true;
        i += 1;
    }
    Ok(items)
}

/// A parse error: the character position and what is wrong there.
type ParseError = (usize, &'static str);

/// A class's ranges from just after its `[`; returns them and the index of its `]`.
fn class(chars: &[char], start: usize) -> Result<(Vec<(char, char)>, usize), ParseError> {
    let mut ranges = Vec::new();
    let mut i = start;
    let read = |i: usize| -> Result<(char, usize), ParseError> {
        match chars.get(i) {
            Some('\\') => chars
                .get(i + 1)
                .map(|c| (*c, i + 2))
                .ok_or((i, "escape '\\' at the end")),
            Some(c) => Ok((*c, i + 1)),
            None => Err((i, "set-open '[' with no closing ']'")),
        }
    };
    loop {
        match chars.get(i) {
            None => return Err((start - 1, "set-open '[' with no closing ']'")),
            Some(']') if ranges.is_empty() => return Err((i, "empty character class")),
            Some(']') => return Ok((ranges, i)),
            Some('[') => return Err((i, "set-open '[' inside a character class")),
            Some(_) => {
                let (lo, next) = read(i)?;
                if chars.get(next) == Some(&'-') && chars.get(next + 1).is_some_and(|c| *c != ']') {
                    let (hi, after) = read(next + 1)?;
                    if hi < lo {
                        return Err((next, "range with its end before its start"));
                    }
                    ranges.push((lo, hi));
                    i = after;
                } else {
                    ranges.push((lo, lo));
                    i = next;
                }
            }
        }
    }
}

/// Breadth-first search of the product automaton for a non-empty common string.
fn intersect(a: &[Item], b: &[Item]) -> bool {
    let (n, m) = (a.len() + 1, b.len() + 1);
    let index = |i: usize, j: usize, consumed: bool| (i * m + j) * 2 + usize::from(consumed);
    let mut seen = vec![false; n * m * 2];
    let mut queue = std::collections::VecDeque::from([(0, 0, false)]);
    seen[index(0, 0, false)] = true;
    while let Some((i, j, consumed)) = queue.pop_front() {
        if consumed && i == a.len() && j == b.len() {
            return true;
        }
        let mut next = Vec::with_capacity(3);
        if a.get(i).is_some_and(|item| item.repeated) {
            next.push((i + 1, j, consumed));
        }
        if b.get(j).is_some_and(|item| item.repeated) {
            next.push((i, j + 1, consumed));
        }
        if let (Some(x), Some(y)) = (a.get(i), b.get(j))
            && x.chars.overlaps(&y.chars)
        {
            let i2 = if x.repeated { i } else { i + 1 };
            let j2 = if y.repeated { j } else { j + 1 };
            next.push((i2, j2, true));
        }
        for (i2, j2, c2) in next {
            if !std::mem::replace(&mut seen[index(i2, j2, c2)], true) {
                queue.push_back((i2, j2, c2));
            }
        }
    }
    false
}
