//! A small parser for the subset of proto3 that `proto/ercs/v1` uses: top-level
//! messages whose fields are scalars, messages, `repeated`, `optional` and `map<K, V>`.
//! Anything else (enums, oneofs, nested messages) fails loudly, so the schema cannot
//! quietly grow past what the drift test understands.
//!
//! Three comment conventions carry what proto3 strings cannot (see `common.proto`):
//! `// enum Name: a, b, c` declares an enumeration's values, a field line ending in
//! `// enum Name` says the field holds one, and `// version: N` before a message gives
//! the event's schema version. [`annotations_dir`] reads them.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Label {
    Singular,
    Optional,
    Repeated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    Named(String),
    Map(String, String),
}

#[derive(Debug, Clone)]
pub struct Field {
    pub label: Label,
    pub ty: FieldType,
    pub name: String,
    pub number: u32,
}

pub type Messages = BTreeMap<String, Vec<Field>>;

/// Parses every `.proto` file in `dir` into one map of messages.
pub fn parse_dir(dir: &std::path::Path) -> Result<Messages, String> {
    let mut messages = Messages::new();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    paths.sort();
    for path in paths
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
    {
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        for (name, fields) in parse(&text).map_err(|e| format!("{}: {e}", path.display()))? {
            if messages.insert(name.clone(), fields).is_some() {
                return Err(format!("message {name} is defined twice"));
            }
        }
    }
    Ok(messages)
}

/// What the comment conventions declare.
#[derive(Debug, Default)]
pub struct Annotations {
    /// Enumeration name → its values.
    pub enums: BTreeMap<String, Vec<String>>,
    /// Event message → schema version.
    pub versions: BTreeMap<String, u16>,
    /// (message, field) → the enumeration it holds.
    pub field_enums: BTreeMap<(String, String), String>,
}

/// Reads the annotations of every `.proto` file in `dir`.
pub fn annotations_dir(dir: &std::path::Path) -> Result<Annotations, String> {
    let mut annotations = Annotations::default();
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "proto"))
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        annotate(&text, &mut annotations).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(annotations)
}

/// Reads the comment conventions of one file, line by line.
pub fn annotate(text: &str, into: &mut Annotations) -> Result<(), String> {
    let mut message: Option<String> = None;
    let mut version: Option<u16> = None;
    for line in text.lines().map(str::trim) {
        if let Some(declaration) = line.strip_prefix("// enum ") {
            let (name, values) = declaration
                .split_once(':')
                .ok_or_else(|| format!("`{line}` names no values"))?;
            let values = values.split(',').map(|v| v.trim().to_owned()).collect();
            if into.enums.insert(name.trim().to_owned(), values).is_some() {
                return Err(format!("enum {name} is declared twice"));
            }
        } else if let Some(v) = line.strip_prefix("// version:") {
            version = Some(v.trim().parse().map_err(|e| format!("`{line}`: {e}"))?);
        } else if let Some(rest) = line.strip_prefix("message ") {
            let name = rest.trim_end_matches('{').trim().to_owned();
            if let Some(v) = version.take() {
                into.versions.insert(name.clone(), v);
            }
            message = Some(name);
        } else if line.starts_with('}') {
            message = None;
        } else if let (Some(message), Some((code, comment))) = (&message, line.split_once("//")) {
            let Some(enum_name) = comment.trim().strip_prefix("enum ") else {
                continue;
            };
            let field = code
                .split('=')
                .next()
                .and_then(|decl| decl.split_whitespace().last())
                .ok_or_else(|| format!("`{line}`: no field name"))?;
            into.field_enums.insert(
                (message.clone(), field.to_owned()),
                enum_name.trim().to_owned(),
            );
        }
        if version.is_some() && !line.starts_with("//") && !line.is_empty() {
            return Err(format!(
                "`// version:` is not followed by a message but by `{line}`"
            ));
        }
    }
    Ok(())
}

pub fn parse(text: &str) -> Result<Vec<(String, Vec<Field>)>, String> {
    let tokens = tokenize(&strip_comments(text));
    let mut p = Parser { tokens, pos: 0 };
    let mut messages = Vec::new();
    while let Some(token) = p.next() {
        match token.as_str() {
            "syntax" | "package" | "import" | "option" => p.skip_statement(),
            "message" => messages.push(p.message()?),
            other => return Err(format!("unsupported top-level `{other}`")),
        }
    }
    Ok(messages)
}

fn strip_comments(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("//") {
            rest = after.find('\n').map_or("", |i| &after[i..]);
        } else if let Some(after) = rest.strip_prefix("/*") {
            rest = after.find("*/").map_or("", |i| &after[i + 2..]);
        } else {
            let c = rest.chars().next().unwrap_or(' ');
            out.push(c);
            rest = &rest[c.len_utf8()..];
        }
    }
    out
}

fn tokenize(text: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    for c in text.chars() {
        if in_string {
            current.push(c);
            if c == '"' {
                tokens.push(std::mem::take(&mut current));
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            current.push(c);
        } else if c.is_whitespace() || "{};=<>,".contains(c) {
            if !current.is_empty() {
                tokens.push(std::mem::take(&mut current));
            }
            if !c.is_whitespace() {
                tokens.push(c.to_string());
            }
        } else {
            current.push(c);
        }
    }
    if !current.is_empty() {
        tokens.push(current);
    }
    tokens
}

struct Parser {
    tokens: Vec<String>,
    pos: usize,
}

impl Parser {
    fn next(&mut self) -> Option<String> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.pos).map(String::as_str)
    }

    fn expect(&mut self, want: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            other => Err(format!("expected `{want}`, found {other:?}")),
        }
    }

    fn word(&mut self) -> Result<String, String> {
        self.next()
            .ok_or_else(|| "unexpected end of file".to_owned())
    }

    fn skip_statement(&mut self) {
        while let Some(t) = self.next() {
            if t == ";" {
                return;
            }
        }
    }

    fn message(&mut self) -> Result<(String, Vec<Field>), String> {
        let name = self.word()?;
        self.expect("{")?;
        let mut fields = Vec::new();
        loop {
            match self.peek() {
                Some("}") => {
                    self.pos += 1;
                    return Ok((name, fields));
                }
                Some("reserved" | "option") => self.skip_statement(),
                Some("message" | "enum" | "oneof" | "extensions" | "extend") => {
                    return Err(format!(
                        "{name}: `{}` is not supported by the drift test",
                        self.peek().unwrap_or("")
                    ));
                }
                Some(_) => fields.push(self.field().map_err(|e| format!("{name}: {e}"))?),
                None => return Err(format!("{name}: unterminated message")),
            }
        }
    }

    fn field(&mut self) -> Result<Field, String> {
        let mut first = self.word()?;
        let label = match first.as_str() {
            "repeated" => Label::Repeated,
            "optional" => Label::Optional,
            _ => Label::Singular,
        };
        if label != Label::Singular {
            first = self.word()?;
        }
        let ty = if first == "map" {
            self.expect("<")?;
            let key = self.word()?;
            self.expect(",")?;
            let value = self.word()?;
            self.expect(">")?;
            FieldType::Map(key, value)
        } else {
            FieldType::Named(first)
        };
        let name = self.word()?;
        self.expect("=")?;
        let number = self
            .word()?
            .parse()
            .map_err(|e| format!("field {name}: {e}"))?;
        match self.peek() {
            Some("[") => return Err(format!("field {name}: field options are not supported")),
            _ => self.expect(";")?,
        }
        Ok(Field {
            label,
            ty,
            name,
            number,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parser_reads_labels_maps_and_numbers() {
        let text = r#"
            syntax = "proto3"; // comment
            /* block */ message A { repeated string xs = 1; map<string, uint32> m = 2; optional string o = 3; reserved 4; }
        "#;
        let parsed = parse(text).unwrap();
        let (name, fields) = &parsed[0];
        assert_eq!(name, "A");
        assert_eq!(
            fields
                .iter()
                .map(|f| (f.name.as_str(), f.number))
                .collect::<Vec<_>>(),
            [("xs", 1), ("m", 2), ("o", 3)]
        );
        assert_eq!(
            fields[1].ty,
            FieldType::Map("string".into(), "uint32".into())
        );
    }

    #[test]
    fn the_annotations_declare_enums_fields_and_versions() {
        let text = "// enum Colour: red, dark_blue\n// A doc.\n// version: 2\nmessage Painted {\n  string colour = 1; // enum Colour\n  string note = 2; // not an enum\n}\n";
        let mut a = Annotations::default();
        annotate(text, &mut a).unwrap();
        assert_eq!(a.enums["Colour"], ["red", "dark_blue"]);
        assert_eq!(a.versions["Painted"], 2);
        assert_eq!(
            a.field_enums[&("Painted".to_owned(), "colour".to_owned())],
            "Colour"
        );
        assert_eq!(a.field_enums.len(), 1);
    }

    #[test]
    fn the_parser_refuses_what_it_does_not_understand() {
        assert!(parse("message A { oneof x { string a = 1; } }").is_err());
        assert!(parse("enum E { A = 0; }").is_err());
    }
}
