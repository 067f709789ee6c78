//! The few macros that keep repeated type plumbing in one place: text newtypes,
//! aggregate ids, event/record messages that declare their protobuf field numbers,
//! and event enums that know their stable names.

/// A string newtype that can only hold a parsed value; serde goes through the parse.
///
/// `pattern` is the same character rule as `chars` (and `first`), written as the
/// ECMA-262 regex its OpenAPI schema states; `tests/openapi_schemas.rs` checks that
/// the two agree. The schema describes the trimmed value serde writes back.
macro_rules! text_newtype {
    (
        $(#[$meta:meta])* $name:ident, field = $field:literal, max = $max:tt, chars = $chars:expr,
        pattern = $pattern:tt, example = $example:tt
    ) => {
        text_newtype!(
            $(#[$meta])* $name, field = $field, max = $max, chars = $chars,
            first = |_| true, first_rule = "", pattern = $pattern, example = $example
        );
    };
    (
        $(#[$meta:meta])* $name:ident, field = $field:literal, max = $max:tt, chars = $chars:expr,
        first = $first:expr, first_rule = $first_rule:literal,
        pattern = $pattern:tt, example = $example:tt
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(
            min_length = 1, max_length = $max, pattern = $pattern, example = $example
        ))]
        pub struct $name(String);

        impl $name {
            /// Parses `raw`; see the type's doc for what is accepted.
            pub fn parse(raw: impl Into<String>) -> Result<Self, $crate::DomainError> {
                let text = $crate::values::parse_text($field, raw.into(), $max, $chars)?;
                let first: fn(char) -> bool = $first;
                match text.chars().next() {
                    Some(c) if !first(c) => Err($crate::DomainError::invalid($field, $first_rule)),
                    _ => Ok(Self(text)),
                }
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::DomainError;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

/// A UUID newtype naming one aggregate (or a cross-aggregate process such as a transfer).
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, field = $field:literal, example = $example:tt) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(example = $example))]
        pub struct $name(uuid::Uuid);

        impl $name {
            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                Self(id)
            }

            pub const fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::DomainError;
            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(raw)
                    .map(Self)
                    .map_err(|e| $crate::DomainError::invalid($field, e.to_string()))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.as_hyphenated().fmt(f)
            }
        }
    };
}

/// A message of the event schema: a struct whose fields carry their protobuf field
/// numbers, so the Rust side declares the schema that `proto/` must match.
/// `(version N)` marks an event payload; without it the message is a nested record.
macro_rules! message {
    (
        $(#[$meta:meta])*
        $name:ident (version $version:literal) { $($body:tt)* }
    ) => {
        message!(@struct $(#[$meta])* $name { $($body)* });
        impl $crate::event::Payload for $name {
            const VERSION: u16 = $version;
        }
    };
    (
        $(#[$meta:meta])*
        $name:ident { $($body:tt)* }
    ) => {
        message!(@struct $(#[$meta])* $name { $($body)* });
    };
    (@struct
        $(#[$meta:meta])*
        $name:ident { $( $(#[$fmeta:meta])* $number:literal $field:ident : $ty:ty ),* $(,)? }
    ) => {
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        $(#[$meta])*
        pub struct $name {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::schema::Message for $name {
            const SCHEMA: $crate::schema::MessageSchema = $crate::schema::MessageSchema {
                name: stringify!($name),
                fields: &[ $( $crate::schema::FieldSchema { number: $number, name: stringify!($field) } ),* ],
            };
        }
    };
}

/// The events of one aggregate. Each variant is named after its payload, and that
/// name is the stable `event_type` in the log. `delegate` nests another event enum
/// (bed pools inside facilities) whose event types pass through unchanged.
macro_rules! event_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($variant:ident),* $(,)? }
        $(delegate $dvariant:ident($dty:ty))?
    ) => {
        $(#[$meta])*
        // The variant names are the event types, so they share the aggregate's prefix.
        #[allow(clippy::enum_variant_names)]
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(tag = "event_type", content = "data")]
        pub enum $name {
            $( $variant($variant), )*
            $( #[serde(untagged)] $dvariant($dty), )?
        }

        $(
            impl From<$variant> for $name {
                fn from(payload: $variant) -> Self {
                    Self::$variant(payload)
                }
            }
        )*

        impl $crate::event::DomainEvent for $name {
            fn event_type(&self) -> &'static str {
                match self {
                    $( Self::$variant(_) => stringify!($variant), )*
                    $( Self::$dvariant(inner) => inner.event_type(), )?
                }
            }

            fn schema_version(&self) -> u16 {
                match self {
                    $( Self::$variant(_) => <$variant as $crate::event::Payload>::VERSION, )*
                    $( Self::$dvariant(inner) => inner.schema_version(), )?
                }
            }

            fn data(&self) -> Result<serde_json::Value, serde_json::Error> {
                match self {
                    $( Self::$variant(payload) => serde_json::to_value(payload), )*
                    $( Self::$dvariant(inner) => inner.data(), )?
                }
            }

            fn decode(
                event_type: &str,
                version: u16,
                data: serde_json::Value,
            ) -> Result<Self, $crate::event::DecodeError> {
                $(
                    if event_type == stringify!($variant) {
                        return $crate::event::decode_payload::<$variant>(version, data).map(Self::$variant);
                    }
                )*
                event_enum!(@fallback event_type, version, data $(, $dvariant($dty))?)
            }

            fn versions() -> Vec<(&'static str, u16)> {
                #[allow(unused_mut)]
                let mut versions = vec![ $( (stringify!($variant), <$variant as $crate::event::Payload>::VERSION) ),* ];
                $( versions.extend(<$dty as $crate::event::DomainEvent>::versions()); )?
                versions
            }

            fn schemas() -> Vec<&'static $crate::schema::MessageSchema> {
                #[allow(unused_mut)]
                let mut schemas: Vec<&'static $crate::schema::MessageSchema> =
                    vec![ $( &<$variant as $crate::schema::Message>::SCHEMA ),* ];
                $( schemas.extend(<$dty as $crate::event::DomainEvent>::schemas()); )?
                schemas
            }
        }
    };
    (@fallback $t:ident, $v:ident, $d:ident) => {
        Err($crate::event::DecodeError::UnknownEventType($t.to_owned()))
    };
    (@fallback $t:ident, $v:ident, $d:ident, $dvariant:ident($dty:ty)) => {
        <$dty as $crate::event::DomainEvent>::decode($t, $v, $d).map(Self::$dvariant)
    };
}

/// `Type::ALL`, every value of a dataless enum, for the schema registry
/// ([`crate::schema::enum_schemas`]). The match below stops compiling when a variant
/// is added without being listed, so the proto drift test sees every value.
macro_rules! all_values {
    ($ty:ident { $($variant:ident),* $(,)? }) => {
        impl $ty {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),*];
        }

        const _: fn($ty) = |value| match value {
            $($ty::$variant => ()),*
        };
    };
}
