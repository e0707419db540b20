//! What a run returns when it does not end normally: the exception as text, SystemExit's
//! status, or a file that cannot be opened.

use microloop_runtime::{Error, Runtime, ScriptException};

#[test]
fn an_exception_comes_back_with_type_message_and_traceback() {
    let rt = Runtime::builder().build().unwrap();
    let err = rt.run_source("def f():\n    raise ValueError('bad value')\nf()\n", "host.py").unwrap_err();
    assert_eq!(err.exit_code(), 1);
    match err {
        Error::Exception(ScriptException { type_name, message, traceback, .. }) => {
            assert_eq!(type_name, "ValueError");
            assert_eq!(message, "bad value");
            assert_eq!(
                traceback,
                "Traceback (most recent call last):\n  File \"host.py\", line 3, in <module>\n  File \"host.py\", line 2, in f\nValueError: bad value\n"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let rt = Runtime::builder().build().unwrap();
    let Err(Error::Exception(e)) = rt.run_source("x = 1\nif x\n", "broken.py") else { panic!("no error") };
    assert_eq!(e.type_name, "SyntaxError");
    assert!(e.traceback.contains("File \"broken.py\", line 2"), "{}", e.traceback);
}

#[test]
fn system_exit_gives_its_status() {
    let rt = Runtime::builder().build().unwrap();
    assert!(rt.run_source("import sys\nsys.exit(0)\n", "a").is_ok());
    assert!(rt.run_source("import sys\nsys.exit()\n", "a").is_ok());
    let e = rt.run_source("import sys\nsys.exit(3)\n", "a").unwrap_err();
    assert!(matches!(e, Error::Exit { code: 3, message: None }), "{e:?}");
    let e = rt.run_source("import sys\nsys.exit('stopping')\n", "a").unwrap_err();
    assert!(matches!(&e, Error::Exit { code: 1, message: Some(m) } if m == "stopping"), "{e:?}");
    assert_eq!(e.to_string(), "stopping");
}

#[test]
fn a_missing_file_is_an_open_error() {
    let rt = Runtime::builder().build().unwrap();
    let e = rt.run_file("/nonexistent/script.py").unwrap_err();
    assert_eq!(e.exit_code(), 2);
    assert_eq!(e.to_string(), "can't open file '/nonexistent/script.py': [Errno 2] No such file or directory (os error 2)");
}

#[test]
fn sleep_takes_its_delay_by_position_or_name_and_wrong_arguments_raise_micropythons_errors() {
    let out = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let sink = out.clone();
    let rt = Runtime::builder().stdout_fn(move |text| sink.borrow_mut().push_str(text)).build().unwrap();
    let script = "import asyncio\n\
                  async def main():\n\
                  \x20   await asyncio.sleep(t=0)\n\
                  \x20   await asyncio.sleep_ms(t=1)\n\
                  \x20   print('slept')\n\
                  asyncio.run(main())\n\
                  cases = ((asyncio.sleep, (), {}), (asyncio.sleep_ms, (1, 2), {}), (asyncio.sleep, (), {'delay': 1}),\n\
                  \x20        (asyncio.sleep, (1,), {'t': 1}))\n\
                  for f, args, kwargs in cases:\n\
                  \x20   try:\n\
                  \x20       f(*args, **kwargs)\n\
                  \x20   except TypeError as e:\n\
                  \x20       print(e)\n\
                  print(asyncio.sleep, asyncio.sleep_ms.__name__)\n";
    rt.run_source(script, "args.py").unwrap();
    assert_eq!(
        *out.borrow(),
        "slept\n\
         function takes 1 positional arguments but 0 were given\n\
         function takes 1 positional arguments but 2 were given\n\
         unexpected keyword argument 'delay'\n\
         function got multiple values for argument 't'\n\
         <built-in function sleep> sleep_ms\n"
    );
}
