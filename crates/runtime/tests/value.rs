//! Values cross between Rust and Python unchanged, and print as Python prints them.

use microloop_runtime::rustpython_vm::compiler::Mode;
use microloop_runtime::{Runtime, Value};

fn eval(rt: &Runtime, expr: &str) -> Result<Value, String> {
    rt.enter(|vm| {
        let scope = vm.new_scope_with_builtins();
        let code = vm.compile(expr, Mode::Eval, "<test>".to_owned()).map_err(|e| e.to_string())?;
        let obj = vm.run_code_obj(code, scope).map_err(|e| microloop_runtime::traceback::format_exception(vm, &e))?;
        Value::from_python(&obj, vm).map_err(|e| microloop_runtime::traceback::format_exception(vm, &e))
    })
}

#[test]
fn values_round_trip_and_repr_like_python() {
    let rt = Runtime::builder().build().unwrap();
    let cases = [
        "None",
        "True",
        "False",
        "-7",
        "9223372036854775807",
        "2.5",
        "3.0",
        "-0.001",
        "'it\\'s'",
        "'say \"hi\"'",
        "'both \\' and \"'",
        "'tab\\there\\\\'",
        "'caf\u{e9} \\x01'",
        "b'it\\'s'",
        "b'\\x00ab\\n\\xff'",
        "[1, [2, 'x'], ()]",
        "(1,)",
        "{'a': 1, 2: [None, b'']}",
    ];
    for text in cases {
        let value = eval(&rt, text).unwrap();
        let repr = eval(&rt, &format!("repr({text})")).unwrap();
        assert_eq!(Value::Str(value.to_string()), repr, "{text}");
        let back = rt.enter(|vm| {
            let obj = value.to_python(vm);
            Value::from_python(&obj, vm).unwrap()
        });
        assert_eq!(back, value, "{text}");
    }
    assert_eq!(eval(&rt, "bytearray(b'hi')").unwrap(), Value::Bytes(b"hi".to_vec()));
}

#[test]
fn what_cannot_cross_is_a_python_error() {
    let rt = Runtime::builder().build().unwrap();
    let err = eval(&rt, "2**64").unwrap_err();
    assert!(err.ends_with("OverflowError: int too big to pass to the host (64 bits at most)\n"), "{err}");
    let err = eval(&rt, "{1}").unwrap_err();
    assert!(err.ends_with("TypeError: cannot pass 'set' object to the host\n"), "{err}");
}
