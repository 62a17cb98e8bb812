//! Compact `Deserialize` impls for the configuration structs that take every missing field from
//! their `Default` and reject unknown fields (what `#[serde(deny_unknown_fields, default)]`
//! derives), and for unit-only enums (what `#[derive(Deserialize)]` with `rename_all` gives).
//!
//! Issue 15: the module's size is its start-up time (V8 compiles it whole at plugin start), and
//! serde's derive expands every struct into a visitor that keeps each field in its own `Option`,
//! so each early error return drops every field read so far (code quadratic in the field count),
//! with its own field-name matcher and its own copy of serde_json's key parsing. Here the key
//! matcher is one function for every struct ([`FieldKey`]), the struct is filled in place from
//! its `Default` (one value to drop on error) and a bit set spots duplicate fields.
//!
//! What a configuration reads as, and every error (message, and the position serde_json
//! attaches, hence the field path `json_path` names), is the same as the derive's: the same
//! serde calls are made in the same order, with the same names, field lists and `expecting`
//! texts (the tests in this module compare both impls).

use serde::de::{
    DeserializeSeed, Deserializer, EnumAccess, Error, Expected, MapAccess, SeqAccess, Unexpected,
    VariantAccess, Visitor,
};
use std::fmt;

/// A struct deserialised by [`deserialize_struct`]: built by [`compact_struct!`].
pub trait CompactStruct: Default + Sized {
    /// The struct's name, as `deserialize_struct` receives it.
    const NAME: &'static str;
    /// `struct NAME`: what the visitor expects.
    const EXPECTING: &'static str;
    /// The fields' names in declaration order (what `unknown field` errors list).
    const FIELDS: &'static [&'static str];
    /// Reads field `i`'s value from `d` into `self` (the value of a map entry or the `i`th
    /// element of a sequence).
    fn read<'de, D: Deserializer<'de>>(&mut self, i: usize, d: D) -> Result<(), D::Error>;
}

/// `T::deserialize` for a [`CompactStruct`]. Never inlined: a struct read as a field, a list
/// element or an `Option` is one call to one copy per deserializer type.
#[inline(never)]
pub fn deserialize_struct<'de, T: CompactStruct, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    // Filled in place from its default: one `T::default()` (not one per visitor method).
    let mut out = T::default();
    d.deserialize_struct(T::NAME, T::FIELDS, StructVisitor(&mut out))?;
    Ok(out)
}

struct StructVisitor<'a, T>(&'a mut T);

impl<'de, T: CompactStruct> Visitor<'de> for StructVisitor<'_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(T::EXPECTING)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // As derived: one `next_element` per field, in order; a missing one keeps the default.
        let out = self.0;
        read_seq(&mut seq, T::FIELDS.len(), &mut |i, seq| {
            seq.next_element_seed(Slot { i, out: &mut *out }).map(drop)
        })
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let out = self.0;
        read_map(&mut map, T::FIELDS, &mut |i, map| {
            map.next_value_seed(Slot { i, out: &mut *out })
        })
    }
}

/// Field `i` of `out`, as the seed of a map value or a sequence element.
struct Slot<'a, T> {
    i: usize,
    out: &'a mut T,
}

impl<'de, T: CompactStruct> DeserializeSeed<'de> for Slot<'_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.out.read(self.i, d)
    }
}

/// Reads field `i` of the struct being filled from `A` (the value of a map entry or a sequence
/// element); `E`: `A`'s error.
type ReadFn<'a, A, E> = dyn FnMut(usize, &mut A) -> Result<(), E> + 'a;

/// The element loop of [`StructVisitor::visit_seq`], one copy per sequence type for every
/// struct (not unrolled into each struct's reader).
#[inline(never)]
fn read_seq<'de, A: SeqAccess<'de>>(
    seq: &mut A,
    fields: usize,
    read: &mut ReadFn<'_, A, A::Error>,
) -> Result<(), A::Error> {
    for i in 0..fields {
        read(i, seq)?;
    }
    Ok(())
}

/// The key loop of [`StructVisitor::visit_map`], one copy per map type for every struct: the
/// struct's own part is `read` (one field's value into place).
#[inline(never)]
fn read_map<'de, A: MapAccess<'de>>(
    map: &mut A,
    fields: &'static [&'static str],
    read: &mut ReadFn<'_, A, A::Error>,
) -> Result<(), A::Error> {
    let mut seen = 0u64;
    while let Some(i) = map.next_key_seed(FieldKey(fields))? {
        if seen >> i & 1 != 0 {
            return Err(A::Error::duplicate_field(fields[i]));
        }
        seen |= 1 << i;
        read(i, map)?;
    }
    Ok(())
}

/// A field's value, `T::deserialize` but never inlined into the struct's field reader: fields
/// of the same type share one copy, and a nested struct is not copied into its parent.
#[inline(never)]
pub fn field<'de, T: serde::Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
    T::deserialize(d)
}

/// `0 <= i < N`, the derive's text for an identifier given as an out-of-range index.
struct IndexExpected(&'static str, usize);

impl Expected for IndexExpected {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{} index 0 <= i < {}", self.0, self.1)
    }
}

/// The index of a field (or variant) name in `names`: the derive's `__Field` identifier, one
/// function for every struct. `variant`: the names are an enum's variants.
struct Ident {
    names: &'static [&'static str],
    variant: bool,
}

/// The field-name seed of [`StructVisitor::visit_map`].
struct FieldKey(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldKey {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(Ident {
            names: self.0,
            variant: false,
        })
    }
}

impl Ident {
    fn unknown<E: Error>(&self, v: &str) -> E {
        if self.variant {
            E::unknown_variant(v, self.names)
        } else {
            E::unknown_field(v, self.names)
        }
    }
}

impl<'de> Visitor<'de> for Ident {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(if self.variant {
            "variant identifier"
        } else {
            "field identifier"
        })
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<usize, E> {
        if v < self.names.len() as u64 {
            Ok(v as usize)
        } else {
            let what = if self.variant { "variant" } else { "field" };
            Err(E::invalid_value(
                Unexpected::Unsigned(v),
                &IndexExpected(what, self.names.len()),
            ))
        }
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<usize, E> {
        match self.names.iter().position(|n| *n == v) {
            Some(i) => Ok(i),
            None => Err(self.unknown(v)),
        }
    }

    fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<usize, E> {
        match self.names.iter().position(|n| n.as_bytes() == v) {
            Some(i) => Ok(i),
            None => Err(self.unknown(&String::from_utf8_lossy(v))),
        }
    }
}

/// A unit-only enum deserialised by [`deserialize_unit_enum`]: built by [`compact_enum!`].
pub trait CompactEnum: Sized {
    /// The enum's name, as `deserialize_enum` receives it.
    const NAME: &'static str;
    /// `enum NAME`: what the visitor expects.
    const EXPECTING: &'static str;
    /// The variants' names in declaration order.
    const VARIANTS: &'static [&'static str];
    /// The variant at index `i` of `VARIANTS`.
    fn from_index(i: usize) -> Self;
}

/// `T::deserialize` for a [`CompactEnum`]: the variant's index is read by one function for
/// every enum (per deserializer type).
pub fn deserialize_unit_enum<'de, T: CompactEnum, D: Deserializer<'de>>(
    d: D,
) -> Result<T, D::Error> {
    unit_enum_index(d, T::NAME, T::EXPECTING, T::VARIANTS).map(T::from_index)
}

#[inline(never)]
fn unit_enum_index<'de, D: Deserializer<'de>>(
    d: D,
    name: &'static str,
    expecting: &'static str,
    variants: &'static [&'static str],
) -> Result<usize, D::Error> {
    d.deserialize_enum(
        name,
        variants,
        EnumVisitor {
            expecting,
            variants,
        },
    )
}

struct EnumVisitor {
    expecting: &'static str,
    variants: &'static [&'static str],
}

impl<'de> Visitor<'de> for EnumVisitor {
    type Value = usize;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<usize, A::Error> {
        let (i, variant) = data.variant_seed(VariantKey(self.variants))?;
        variant.unit_variant()?;
        Ok(i)
    }
}

/// The variant-name seed of [`EnumVisitor::visit_enum`].
struct VariantKey(&'static [&'static str]);

impl<'de> DeserializeSeed<'de> for VariantKey {
    type Value = usize;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(Ident {
            names: self.0,
            variant: true,
        })
    }
}

/// `impl Deserialize` for a struct whose every field defaults from the struct's `Default` and
/// whose unknown fields are errors (the derive's `#[serde(deny_unknown_fields, default)]`).
/// List every field in declaration order, `field = "json_name"` where it is renamed; leaving
/// one out fails to compile.
#[macro_export]
macro_rules! compact_struct {
    ($ty:ident { $($field:ident $(= $name:literal)?),* $(,)? }) => {
        impl $crate::compact_de::CompactStruct for $ty {
            const NAME: &'static str = stringify!($ty);
            const EXPECTING: &'static str = concat!("struct ", stringify!($ty));
            const FIELDS: &'static [&'static str] =
                &[$($crate::compact_struct!(@name $field $($name)?)),*];

            #[inline(never)]
            fn read<'de, D: serde::Deserializer<'de>>(
                &mut self,
                i: usize,
                d: D,
            ) -> Result<(), D::Error> {
                let mut _n = 0usize;
                $(
                    if i == _n {
                        self.$field = $crate::compact_de::field(d)?;
                        return Ok(());
                    }
                    _n += 1;
                )*
                Ok(())
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::compact_de::deserialize_struct(d)
            }
        }

        // Every field listed: adding one to the struct without listing it fails here.
        const _: fn($ty) = |v: $ty| {
            let $ty { $($field: _),* } = v;
        };
    };
    (@name $field:ident $name:literal) => { $name };
    (@name $field:ident) => { stringify!($field) };
}

/// `impl Deserialize` for a unit-only enum, as `#[derive(Deserialize)]` with
/// `#[serde(rename_all = "snake_case")]` gives: list every variant with its JSON name, in
/// declaration order; leaving one out fails to compile.
#[macro_export]
macro_rules! compact_enum {
    ($ty:ident { $($variant:ident = $name:literal),* $(,)? }) => {
        impl $crate::compact_de::CompactEnum for $ty {
            const NAME: &'static str = stringify!($ty);
            const EXPECTING: &'static str = concat!("enum ", stringify!($ty));
            const VARIANTS: &'static [&'static str] = &[$($name),*];

            fn from_index(i: usize) -> Self {
                const ALL: &[$ty] = &[$($ty::$variant),*];
                ALL[i]
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::compact_de::deserialize_unit_enum(d)
            }
        }

        // Every variant listed: adding one to the enum without listing it fails here.
        const _: fn($ty) = |v: $ty| match v {
            $($ty::$variant => {}),*
        };
    };
}

#[cfg(test)]
mod tests {
    //! The compact impls against serde's derive, on the same shapes: same values, same errors
    //! (message, line and column).

    mod derived {
        use serde::Deserialize;

        #[derive(Debug, Default, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct Inner {
            pub n: Option<u32>,
            #[serde(rename = "match")]
            pub m: Vec<String>,
        }

        #[derive(Debug, PartialEq, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct Outer {
            pub size: usize,
            pub name: String,
            pub on: bool,
            pub inner: Inner,
            pub list: Vec<Inner>,
            pub mode: Mode,
        }

        impl Default for Outer {
            fn default() -> Self {
                Outer {
                    size: 7,
                    name: "x".into(),
                    on: true,
                    inner: Inner::default(),
                    list: Vec::new(),
                    mode: Mode::Allow,
                }
            }
        }

        #[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Mode {
            Allow,
            RejectAll,
        }
    }

    mod compact {
        #[derive(Debug, Default, PartialEq)]
        pub struct Inner {
            pub n: Option<u32>,
            pub m: Vec<String>,
        }
        crate::compact_struct!(Inner { n, m = "match" });

        #[derive(Debug, PartialEq)]
        pub struct Outer {
            pub size: usize,
            pub name: String,
            pub on: bool,
            pub inner: Inner,
            pub list: Vec<Inner>,
            pub mode: Mode,
        }
        crate::compact_struct!(Outer {
            size,
            name,
            on,
            inner,
            list,
            mode
        });

        impl Default for Outer {
            fn default() -> Self {
                Outer {
                    size: 7,
                    name: "x".into(),
                    on: true,
                    inner: Inner::default(),
                    list: Vec::new(),
                    mode: Mode::Allow,
                }
            }
        }

        #[derive(Debug, Clone, Copy, PartialEq)]
        pub enum Mode {
            Allow,
            RejectAll,
        }
        crate::compact_enum!(Mode { Allow = "allow", RejectAll = "reject_all" });
    }

    const CASES: &[&str] = &[
        "{}",
        r#"{"size": 3, "name": "n", "on": false}"#,
        r#"{"inner": {"n": 4, "match": ["a", "b"]}, "list": [{}, {"n": null}]}"#,
        r#"{"mode": "reject_all"}"#,
        r#"{"mode": {"reject_all": null}}"#,
        r#"{"mode": "nope"}"#,
        r#"{"mode": 3}"#,
        r#"{"mode": ["allow"]}"#,
        r#"{"mode": {"allow": 1}}"#,
        r#"{"size": "lots"}"#,
        r#"{"size": -1}"#,
        r#"{"size": 1.5}"#,
        r#"{"size": 1, "size": 2}"#,
        r#"{"sise": 1}"#,
        r#"{"inner": {"m": []}}"#,
        r#"{"inner": {"match": [1]}}"#,
        r#"{"inner": {"n": 1, "n": 2}}"#,
        r#"{"inner": []}"#,
        r#"{"inner": [5, ["q"]]}"#,
        r#"{"inner": [5, ["q"], 6]}"#,
        r#"{"inner": 5}"#,
        r#"{"list": [{"zz": 1}]}"#,
        "[]",
        r#"[1, "a", true]"#,
        r#"[1, "a", true, {}, [], "allow", 9]"#,
        r#"[1, 2]"#,
        "null",
        "5",
        r#""s""#,
        r#"{"size": 1,}"#,
        r#"{"size" 1}"#,
        r#"{"\u0073ize": 2}"#,
        r#"{"size": 1"#,
        "{\n  \"inner\": {\n    \"n\": true\n  }\n}",
    ];

    #[test]
    fn same_values_and_errors_as_the_derive() {
        for case in CASES {
            let d = serde_json::from_str::<derived::Outer>(case).map(|v| format!("{v:?}"));
            let c = serde_json::from_str::<compact::Outer>(case).map(|v| format!("{v:?}"));
            match (d, c) {
                (Ok(d), Ok(c)) => assert_eq!(d, c, "{case}"),
                (Err(d), Err(c)) => {
                    assert_eq!(d.to_string(), c.to_string(), "{case}");
                    assert_eq!((d.line(), d.column()), (c.line(), c.column()), "{case}");
                }
                (d, c) => panic!("{case}: derive {d:?}, compact {c:?}"),
            }
        }
    }

    #[test]
    fn same_errors_from_a_value() {
        // Through serde_json::Value too (no positions there: only the messages).
        for case in CASES {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(case) else {
                continue;
            };
            let d = derived::Outer::deserialize(&v).map(|v| format!("{v:?}"));
            let c = compact::Outer::deserialize(&v).map(|v| format!("{v:?}"));
            match (d, c) {
                (Ok(d), Ok(c)) => assert_eq!(d, c, "{case}"),
                (Err(d), Err(c)) => assert_eq!(d.to_string(), c.to_string(), "{case}"),
                (d, c) => panic!("{case}: derive {d:?}, compact {c:?}"),
            }
        }
    }

    use serde::Deserialize;
}
