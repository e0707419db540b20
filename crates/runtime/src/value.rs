//! [`Value`]: the plain data that crosses between a Rust host and Python.

use rustpython_vm::{
    AsObject, PyObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::{PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyStr, PyTuple},
};

/// A Python value a host can hold: `None`, `bool`, `int` (64-bit), `float`, `str`, `bytes`, and
/// lists, tuples and dicts of these.
///
/// ```
/// use microloop_runtime::Value;
/// let reading = Value::Dict(vec![("celsius".into(), 21.5.into()), ("ok".into(), true.into())]);
/// assert_eq!(reading.to_string(), "{'celsius': 21.5, 'ok': True}");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `None`.
    None,
    /// `True` or `False`.
    Bool(bool),
    /// An `int` that fits in 64 bits.
    Int(i64),
    /// A `float`.
    Float(f64),
    /// A `str`.
    Str(String),
    /// `bytes` (a `bytearray` becomes this too).
    Bytes(Vec<u8>),
    /// A `list`.
    List(Vec<Value>),
    /// A `tuple`.
    Tuple(Vec<Value>),
    /// A `dict`, in insertion order.
    Dict(Vec<(Value, Value)>),
}

impl Value {
    /// The Python object for this value.
    pub fn to_python(&self, vm: &VirtualMachine) -> PyObjectRef {
        let ctx = &vm.ctx;
        match self {
            Value::None => ctx.none(),
            Value::Bool(b) => ctx.new_bool(*b).into(),
            Value::Int(i) => ctx.new_int(*i).into(),
            Value::Float(f) => ctx.new_float(*f).into(),
            Value::Str(s) => ctx.new_str(s.as_str()).into(),
            Value::Bytes(b) => ctx.new_bytes(b.clone()).into(),
            Value::List(items) => ctx.new_list(items.iter().map(|v| v.to_python(vm)).collect()).into(),
            Value::Tuple(items) => ctx.new_tuple(items.iter().map(|v| v.to_python(vm)).collect()).into(),
            Value::Dict(pairs) => {
                let dict = ctx.new_dict();
                for (k, v) in pairs {
                    // Keys are plain values, so hashing cannot run Python code that fails,
                    // except for unhashable ones (a list key), which Python rejects the same way.
                    let _ = dict.set_item(&*k.to_python(vm), v.to_python(vm), vm);
                }
                dict.into()
            }
        }
    }

    /// The value of a Python object. TypeError for any other type; OverflowError for an int
    /// beyond 64 bits.
    pub fn from_python(obj: &PyObject, vm: &VirtualMachine) -> PyResult<Value> {
        if vm.is_none(obj) {
            return Ok(Value::None);
        }
        let class = obj.class();
        if class.is(vm.ctx.types.bool_type) {
            return Ok(Value::Bool(obj.is(&vm.ctx.true_value)));
        }
        if let Some(i) = obj.downcast_ref::<PyInt>() {
            return i
                .try_to_primitive::<i64>(vm)
                .map(Value::Int)
                .map_err(|_| vm.new_overflow_error("int too big to pass to the host (64 bits at most)"));
        }
        if let Some(f) = obj.downcast_ref::<PyFloat>() {
            return Ok(Value::Float(f.to_f64()));
        }
        if let Some(s) = obj.downcast_ref::<PyStr>() {
            return Ok(Value::Str(s.to_string_lossy().into_owned()));
        }
        if let Some(b) = obj.downcast_ref::<PyBytes>() {
            return Ok(Value::Bytes(b.as_bytes().to_vec()));
        }
        if let Some(b) = obj.downcast_ref::<PyByteArray>() {
            return Ok(Value::Bytes(b.borrow_buf().to_vec()));
        }
        if let Some(l) = obj.downcast_ref::<PyList>() {
            let items = l.borrow_vec().to_vec();
            return items.iter().map(|o| Value::from_python(o, vm)).collect::<PyResult<_>>().map(Value::List);
        }
        if let Some(t) = obj.downcast_ref::<PyTuple>() {
            return t.iter().map(|o| Value::from_python(o, vm)).collect::<PyResult<_>>().map(Value::Tuple);
        }
        if let Some(d) = obj.downcast_ref::<PyDict>() {
            return d
                .items_vec()
                .iter()
                .map(|(k, v)| Ok((Value::from_python(k, vm)?, Value::from_python(v, vm)?)))
                .collect::<PyResult<_>>()
                .map(Value::Dict);
        }
        Err(vm.new_type_error(format!("cannot pass '{}' object to the host", class.name())))
    }

    /// The value as an `i64`, if it is an int (or a bool).
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Bool(b) => Some(*b as i64),
            _ => None,
        }
    }

    /// The value as an `f64`, if it is a float or an int.
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }

    /// The value as a `&str`, if it is a str.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Python's `repr` of the value.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        fn seq(f: &mut std::fmt::Formatter<'_>, items: &[Value]) -> std::fmt::Result {
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{v}")?;
            }
            Ok(())
        }
        match self {
            Value::None => f.write_str("None"),
            Value::Bool(true) => f.write_str("True"),
            Value::Bool(false) => f.write_str("False"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e16 => write!(f, "{x:.1}"),
            Value::Float(x) if x.is_nan() => f.write_str("nan"),
            Value::Float(x) if x.is_infinite() => f.write_str(if *x > 0.0 { "inf" } else { "-inf" }),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => quoted(f, "", s.chars().map(|c| c as u32)),
            Value::Bytes(b) => quoted(f, "b", b.iter().map(|&c| c as u32)),
            Value::List(items) => {
                f.write_str("[")?;
                seq(f, items)?;
                f.write_str("]")
            }
            Value::Tuple(items) => {
                f.write_str("(")?;
                seq(f, items)?;
                f.write_str(if items.len() == 1 { ",)" } else { ")" })
            }
            Value::Dict(pairs) => {
                f.write_str("{")?;
                for (i, (k, v)) in pairs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

/// Writes a str or bytes literal as Python's repr does: single quotes unless the text has a
/// single quote and no double one; backslash escapes for the quote, backslash, `\n`, `\r`,
/// `\t` and other control characters; for bytes, `\xNN` above 0x7e too.
fn quoted(f: &mut std::fmt::Formatter<'_>, prefix: &str, text: impl Iterator<Item = u32> + Clone) -> std::fmt::Result {
    let bytes = prefix == "b";
    let has = |q: u32| text.clone().any(|c| c == q);
    let quote = if has('\'' as u32) && !has('"' as u32) { '"' } else { '\'' };
    write!(f, "{prefix}{quote}")?;
    for c in text {
        match char::from_u32(c) {
            Some('\\') => f.write_str("\\\\")?,
            Some('\n') => f.write_str("\\n")?,
            Some('\r') => f.write_str("\\r")?,
            Some('\t') => f.write_str("\\t")?,
            Some(ch) if ch == quote => write!(f, "\\{ch}")?,
            Some(ch) if (ch as u32) < 0x20 || ch as u32 == 0x7f || (bytes && ch as u32 > 0x7f) => {
                write!(f, "\\x{c:02x}")?
            }
            Some(ch) => write!(f, "{ch}")?,
            None => write!(f, "\\x{c:02x}")?,
        }
    }
    write!(f, "{quote}")
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Self {
        Value::Int(i.into())
    }
}

impl From<f64> for Value {
    fn from(x: f64) -> Self {
        Value::Float(x)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(s)
    }
}

impl From<Vec<u8>> for Value {
    fn from(b: Vec<u8>) -> Self {
        Value::Bytes(b)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Value::List(items)
    }
}

impl From<()> for Value {
    fn from(_: ()) -> Self {
        Value::None
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::None, Into::into)
    }
}
