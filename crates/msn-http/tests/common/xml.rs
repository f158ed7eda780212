//! Replies parsed into a small tree, by qualified name (the way BitlBee
//! reads them) and by namespace, and compared in structure with the
//! reference's vectors.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// An element; `text` is its own text, XML-unescaped.
#[derive(Debug, Default)]
pub struct El {
    /// The qualified name, `prefix:local` as written.
    pub name: String,
    /// The namespace the name is in ("" for none).
    pub ns: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<El>,
}

impl El {
    /// Parses a whole document (which must be well-formed) into its root.
    pub fn parse(xml: &str) -> El {
        let mut reader = NsReader::from_str(xml);
        reader.config_mut().expand_empty_elements = true;
        let mut stack = vec![El::default()];
        loop {
            let (ns, event) = reader.read_resolved_event().expect("well-formed XML");
            match event {
                Event::Start(e) => stack.push(El {
                    name: String::from_utf8(e.name().as_ref().to_vec()).unwrap(),
                    ns: match ns {
                        ResolveResult::Bound(ns) => String::from_utf8(ns.0.to_vec()).unwrap(),
                        ResolveResult::Unbound => String::new(),
                        ResolveResult::Unknown(p) => {
                            panic!("undeclared prefix {}", String::from_utf8_lossy(&p))
                        }
                    },
                    attrs: e
                        .attributes()
                        .map(|a| {
                            let a = a.unwrap();
                            let key = String::from_utf8(a.key.as_ref().to_vec()).unwrap();
                            (key, a.unescape_value().unwrap().into_owned())
                        })
                        .collect(),
                    ..El::default()
                }),
                Event::End(_) => {
                    let done = stack.pop().unwrap();
                    stack.last_mut().unwrap().children.push(done);
                }
                Event::Text(t) => {
                    let el = stack.last_mut().unwrap();
                    el.text.push_str(&t.unescape().unwrap());
                }
                Event::CData(t) => {
                    let el = stack.last_mut().unwrap();
                    el.text.push_str(std::str::from_utf8(&t).unwrap());
                }
                Event::DocType(_) => panic!("DOCTYPE"),
                Event::Eof => break,
                _ => {}
            }
        }
        let mut document = stack.pop().unwrap();
        assert!(stack.is_empty(), "unclosed elements");
        assert_eq!(document.children.len(), 1, "one root");
        document.children.pop().unwrap()
    }

    pub fn all(&self, name: &str) -> Vec<&El> {
        self.children.iter().filter(|c| c.name == name).collect()
    }

    pub fn get(&self, name: &str) -> Option<&El> {
        let all = self.all(name);
        assert!(all.len() <= 1, "several {name} in {}", self.name);
        all.first().copied()
    }

    /// The only child `name`, following a `/`-separated path.
    pub fn at(&self, path: &str) -> &El {
        path.split('/').fold(self, |el, name| {
            el.get(name)
                .unwrap_or_else(|| panic!("no {name} in {}: {el:#?}", el.name))
        })
    }

    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn child_names(&self) -> Vec<&str> {
        self.children.iter().map(|c| c.name.as_str()).collect()
    }

    /// The local part of the name.
    pub fn local(&self) -> &str {
        self.name.rsplit(':').next().unwrap()
    }

    /// Attributes other than namespace declarations, sorted.
    fn plain_attrs(&self) -> Vec<(&str, &str)> {
        let mut attrs: Vec<_> = self
            .attrs
            .iter()
            .filter(|(k, _)| k != "xmlns" && !k.starts_with("xmlns:"))
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        attrs.sort_unstable();
        attrs
    }
}

/// What a structural comparison leaves to the server.
pub struct Free<'a> {
    /// Local names of elements whose text is the server's choice (dates,
    /// tickets, ids, keys).
    pub text: &'a [&'a str],
    /// Attribute names whose values are the server's choice.
    pub attr_values: &'a [&'a str],
    /// Local names of elements whose children are only checked to be
    /// named as some child of the vector's element (ours may send fewer,
    /// in any order).
    pub subset: &'a [&'a str],
}

/// Asserts that `ours` has the structure of the reference's `vector`: the
/// same elements (qualified name and namespace) in the same order, the
/// same attribute names, and the same text and attribute values except
/// where `free` allows the server its own.
pub fn assert_same_shape(ours: &El, vector: &El, free: &Free<'_>) {
    walk(ours, vector, free, &mut Vec::new());
}

fn walk(ours: &El, vector: &El, free: &Free<'_>, path: &mut Vec<String>) {
    path.push(vector.name.clone());
    let at = path.join("/");
    assert_eq!(
        (ours.name.as_str(), ours.ns.as_str()),
        (vector.name.as_str(), vector.ns.as_str()),
        "{at}"
    );
    let (ours_attrs, vector_attrs) = (ours.plain_attrs(), vector.plain_attrs());
    let names = |a: &[(&str, &str)]| a.iter().map(|(k, _)| k.to_string()).collect::<Vec<_>>();
    assert_eq!(names(&ours_attrs), names(&vector_attrs), "{at}: attributes");
    for ((k, ours_value), (_, vector_value)) in ours_attrs.iter().zip(&vector_attrs) {
        if !free.attr_values.contains(k) {
            assert_eq!(ours_value, vector_value, "{at}/@{k}");
        }
    }
    if !free.text.contains(&vector.local()) {
        assert_eq!(ours.text.trim(), vector.text.trim(), "{at}: text");
    }
    if free.subset.contains(&vector.local()) {
        for child in &ours.children {
            // The same element, and for named ones (`Name="CID"`) the
            // same name.
            let like = vector
                .children
                .iter()
                .find(|v| v.name == child.name && v.attr("Name") == child.attr("Name"))
                .unwrap_or_else(|| panic!("{at}: {} not in the vector", child.name));
            assert_eq!(child.ns, like.ns, "{at}/{}", child.name);
            assert_eq!(
                names(&child.plain_attrs()),
                names(&like.plain_attrs()),
                "{at}/{}",
                child.name
            );
        }
    } else {
        assert_eq!(ours.child_names(), vector.child_names(), "{at}: children");
        for (o, v) in ours.children.iter().zip(&vector.children) {
            walk(o, v, free, path);
        }
    }
    path.pop();
}
