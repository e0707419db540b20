//! The embedding API as a host uses it: host functions, async host calls completed from other
//! threads, output sinks, modules given as source, and the `Send` handle.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use microloop_runtime::{Completion, Error, ErrorKind, Handle, HostError, HostModule, Runtime, RuntimeBuilder, Value};

/// Text written by the script, shared with the callback that collects it.
type Captured = Rc<RefCell<String>>;

/// A builder whose stdout and stderr are collected.
fn capturing() -> (RuntimeBuilder, Captured, Captured) {
    let (out, err) = (Captured::default(), Captured::default());
    let (o, e) = (out.clone(), err.clone());
    let b = Runtime::builder().stdout_fn(move |s| o.borrow_mut().push_str(s)).stderr_fn(move |s| e.borrow_mut().push_str(s));
    (b, out, err)
}

fn run(rt: &Runtime, src: &str) -> Result<(), Error> {
    rt.run_source(src, "<test>")
}

#[test]
fn sync_host_functions_convert_values_both_ways_and_raise_host_errors() {
    let m = HostModule::new("host")
        .constant("VERSION", "1.2")
        .function("echo", |args| Ok(Value::Tuple(args.to_vec())))
        .function("total", |args| match args {
            [Value::List(items)] => items.iter().map(|v| v.as_int().ok_or_else(|| HostError::type_error("ints only"))).sum::<Result<i64, _>>().map(Value::Int),
            _ => Err(HostError::type_error("total() takes a list")),
        })
        .function("fail", |args| Err(HostError::os_error(5, format!("device {} gone", args.len()))));
    let (b, out, err) = capturing();
    let rt = b.host_module(m).build().unwrap();
    run(
        &rt,
        r#"
import host
print(host.VERSION, host)
print(host.echo(None, True, -3, 2.5, "é", b"\x00\xff", [1, [2]], {"k": (1,)}))
print(host.total([1, 2, 3]))
for call in (lambda: host.total([1, "x"]), lambda: host.total(1), lambda: host.fail(1, 2), lambda: host.echo({1}), lambda: host.echo(x=1)):
    try:
        call()
    except Exception as e:
        print(type(e).__name__, e.args)
print(host.echo)
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        *out.borrow(),
        "1.2 <module 'host'>\n\
         (None, True, -3, 2.5, 'é', b'\\x00\\xff', [1, [2]], {'k': (1,)})\n\
         6\n\
         TypeError ('ints only',)\n\
         TypeError ('total() takes a list',)\n\
         OSError (5, 'device 2 gone')\n\
         TypeError (\"cannot pass 'set' object to the host\",)\n\
         TypeError (\"function doesn't take keyword arguments\",)\n\
         <function echo>\n"
    );
    assert_eq!(*err.borrow(), "");
}

#[test]
fn an_exception_from_a_host_function_carries_a_traceback_to_the_host() {
    let m = HostModule::new("dev").function("read", |_| Err(HostError::new(ErrorKind::TimeoutError, "no answer")));
    let (b, _out, err) = capturing();
    let rt = b.host_module(m).build().unwrap();
    let Err(Error::Exception(e)) = run(&rt, "import dev\n\ndev.read()\n") else { panic!("expected an exception") };
    assert_eq!((e.type_name.as_str(), e.message.as_str()), ("TimeoutError", "no answer"));
    assert_eq!(e.traceback, "Traceback (most recent call last):\n  File \"<test>\", line 3, in <module>\nTimeoutError: no answer\n");
    // The host prints it if it wants to: nothing reached the script's stderr.
    assert_eq!(*err.borrow(), "");
}

/// A sensor whose readings a worker thread delivers: each `read()` call sends its
/// completion to the worker.
fn sensor(jobs: mpsc::Sender<(Vec<Value>, Completion)>) -> HostModule {
    HostModule::new("sensor").async_function("read", move |args, done| {
        jobs.send((args.to_vec(), done)).map_err(|_| HostError::runtime_error("sensor worker gone"))
    })
}

#[test]
fn async_host_calls_complete_from_a_worker_thread_with_values_and_errors() {
    let (tx, rx) = mpsc::channel::<(Vec<Value>, Completion)>();
    let worker = std::thread::spawn(move || {
        // The six calls the script makes.
        for (args, done) in rx.iter().take(6) {
            match args.first().and_then(Value::as_int) {
                Some(n) if n >= 0 => done.ok(Value::Float(n as f64 * 1.5)),
                Some(_) => done.err(HostError::value_error("negative channel")),
                // Dropping the completion without an answer.
                None => drop(done),
            }
        }
    });
    let (b, out, _err) = capturing();
    let rt = b.host_module(sensor(tx)).build().unwrap();
    run(
        &rt,
        r#"
import asyncio, sensor
async def ticker(log):
    for i in range(3):
        log.append(i)
        await asyncio.sleep(0)
async def main():
    log = []
    t = asyncio.create_task(ticker(log))
    print(await sensor.read(2))
    print(await asyncio.gather(sensor.read(1), sensor.read(4)))
    for args in ((-1,), ()):
        try:
            await sensor.read(*args)
        except Exception as e:
            print(type(e).__name__, e)
    call = sensor.read(3)
    print(repr(call)[:16])
    print(await call, await call)
    await t
    print(log)
asyncio.run(main())
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    worker.join().unwrap();
    assert_eq!(
        *out.borrow(),
        "3.0\n[1.5, 6.0]\nValueError negative channel\n\
         RuntimeError sensor.read dropped its completion without a result\n\
         <HostCall sensor\n4.5 4.5\n[0, 1, 2]\n"
    );
}

#[test]
fn cancelling_the_awaiting_task_tells_the_host() {
    let told = Arc::new(AtomicBool::new(false));
    let held: Arc<Mutex<Vec<Completion>>> = Arc::default();
    let (t2, h2) = (told.clone(), held.clone());
    let (b, out, _err) = capturing();
    let m = HostModule::new("slow").async_function("op", move |_, done| {
        let t = t2.clone();
        done.on_cancel(move || t.store(true, Ordering::SeqCst));
        h2.lock().unwrap().push(done);
        Ok(())
    });
    let rt = b.host_module(m).build().unwrap();
    run(
        &rt,
        r#"
import asyncio, slow
async def main():
    try:
        await asyncio.wait_for(slow.op(), 0.05)
    except asyncio.TimeoutError:
        print("timed out")
asyncio.run(main())
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(*out.borrow(), "timed out\n");
    assert!(told.load(Ordering::SeqCst), "on_cancel ran");
    let done = held.lock().unwrap().pop().unwrap();
    assert!(done.is_cancelled());
    // Completing a cancelled call is harmless; a hook registered now runs at once.
    let late = Arc::new(AtomicBool::new(false));
    let l = late.clone();
    done.on_cancel(move || l.store(true, Ordering::SeqCst));
    assert!(late.load(Ordering::SeqCst));
    done.ok(1);
}

#[test]
fn output_goes_to_the_hosts_writer_and_tracebacks_to_its_stderr() {
    #[derive(Clone, Default)]
    struct Shared(Rc<RefCell<Vec<u8>>>);
    impl std::io::Write for Shared {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.borrow_mut().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let (out, err) = (Shared::default(), Shared::default());
    let rt = Runtime::builder().stdout(std::io::BufWriter::new(out.clone())).stderr(err.clone()).build().unwrap();
    let result = run(
        &rt,
        "import sys, asyncio\nprint('a', 1)\nsys.stdout.write('b\\n')\nsys.stdout.buffer.write(b'\\xc3\\xa9\\n')\nasync def bad():\n    raise ValueError('x')\nasync def main():\n    asyncio.create_task(bad())\n    await asyncio.sleep(0)\n    await asyncio.sleep(0)\nasyncio.run(main())\n1/0\n",
    );
    assert!(matches!(result, Err(Error::Exception(ref e)) if e.type_name == "ZeroDivisionError"));
    // The BufWriter was flushed when the run ended.
    assert_eq!(String::from_utf8(out.0.borrow().clone()).unwrap(), "a 1\nb\né\n");
    let err = String::from_utf8(err.0.borrow().clone()).unwrap();
    assert!(err.starts_with("Task exception wasn't retrieved\nfuture: <Task> coro= <coroutine object bad at "), "{err}");
    assert!(err.ends_with("  File \"<test>\", line 6, in bad\nValueError: x\n"), "{err}");
}

#[test]
fn modules_given_as_source_import_lazily_as_packages_and_name_their_file_in_errors() {
    let (b, out, _err) = capturing();
    let rt = b
        .module("config", "RATE = 5\nprint('config loaded')\n")
        .module("app", "from app.util import double\n")
        .module("app.util", "import config\ndef double(x):\n    return 2 * x * config.RATE // config.RATE\n")
        .module("broken", "x = 1\ndef f(:\n")
        .module("raises", "\n\nraise KeyError('k')\n")
        .build()
        .unwrap();
    run(&rt, "print('start')\nimport app\nprint(app.double(21), app.__file__, app.util.__file__)\nimport config\nprint(config.RATE)\n").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(*out.borrow(), "start\nconfig loaded\n42 app/__init__.py app/util.py\n5\n");
    let Err(Error::Exception(e)) = run(&rt, "import broken\n") else { panic!("syntax error expected") };
    assert_eq!(e.type_name, "SyntaxError");
    assert!(e.traceback.contains("File \"broken.py\", line 2"), "{}", e.traceback);
    let Err(Error::Exception(e)) = run(&rt, "import raises\n") else { panic!("KeyError expected") };
    assert!(e.traceback.contains("  File \"raises.py\", line 3, in <module>\nKeyError: k"), "{}", e.traceback);
}

/// A host module whose `ready()` tells the test the script has reached its waiting point, so
/// what the test sends arrives while the loop waits: no sleeping on either side.
fn ready_signal() -> (HostModule, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let m = HostModule::new("host").function("ready", move |_| {
        let _ = tx.send(());
        Ok(Value::None)
    });
    (m, rx)
}

/// Runs `src`, which calls `host.ready()` once it waits; at that moment another thread does
/// `act` with the runtime's handle. Returns the runtime, the run's result, stdout and stderr.
fn run_when_ready(src: &str, act: impl FnOnce(Handle) + Send + 'static) -> (Runtime, Result<(), Error>, Captured, Captured) {
    let (m, ready) = ready_signal();
    let (b, out, err) = capturing();
    let rt = b.host_module(m).build().unwrap();
    let handle = rt.handle();
    let actor = std::thread::spawn(move || {
        ready.recv().unwrap();
        act(handle);
    });
    let result = run(&rt, src);
    actor.join().unwrap();
    (rt, result, out, err)
}

#[test]
fn call_soon_threadsafe_runs_functions_and_coroutines_on_the_loop() {
    let (_rt, result, out, err) = run_when_ready(
        r#"
import asyncio, host, sys
class lib:
    async def later(word):
        await asyncio.sleep(0)
        print("coroutine", word)
        done.set()
sys.modules["lib"] = lib
done = asyncio.Event()
def on_message(text, n):
    print("message", text * n)
async def main():
    host.ready()
    await done.wait()
    print("main done")
asyncio.run(main())
"#,
        |handle| {
            handle.call_soon_threadsafe("on_message", [Value::from("hi "), Value::Int(2)]).unwrap();
            handle.call_soon_threadsafe("missing", []).unwrap();
            handle.call_soon_threadsafe("lib.later", [Value::from("bye")]).unwrap();
        },
    );
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(*out.borrow(), "message hi hi \ncoroutine bye\nmain done\n", "stderr: {}", err.borrow());
    assert_eq!(*err.borrow(), "Exception in callback missing\nNameError: name 'missing' isn't defined\n");
}

#[test]
fn a_main_task_nothing_can_wake_waits_until_the_host_interrupts_it() {
    // Nothing can set the event, and the handle is gone: as MicroPython's run_until_complete
    // does, the run keeps waiting for the main task (asleep in the poller, not spinning), and
    // only an interrupt ends it. The deadline is armed before the handle goes.
    let (_rt, result, out, _err) = run_when_ready(
        "import asyncio, host\nasync def main():\n    host.ready()\n    await asyncio.Event().wait()\n    print('never')\ntry:\n    asyncio.run(main())\nfinally:\n    print('interrupted')\n",
        |handle| handle.interrupt_after(Duration::from_millis(100)).unwrap(),
    );
    assert!(matches!(result, Err(Error::Interrupted { .. })), "{result:?}");
    assert_eq!(*out.borrow(), "interrupted\n");
}

#[test]
fn stop_ends_run_forever_and_the_script_cleans_up() {
    let (_rt, result, out, _err) = run_when_ready(
        "import asyncio, host\nasync def serve():\n    host.ready()\n    await asyncio.sleep(3600)\nloop = asyncio.get_event_loop()\nloop.create_task(serve())\ntry:\n    loop.run_forever()\nfinally:\n    print('cleaned up')\n",
        |handle| handle.stop().unwrap(),
    );
    result.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(*out.borrow(), "cleaned up\n");
}

#[test]
fn interrupt_stops_a_script_busy_in_python_code() {
    let (rt, result, out, _err) = run_when_ready(
        "import host\nn = 0\ntry:\n    host.ready()\n    while True:\n        n += 1\nfinally:\n    print('finally ran')\n",
        |handle| handle.interrupt().unwrap(),
    );
    let Err(Error::Interrupted { traceback }) = result else { panic!("{result:?}") };
    assert!(traceback.ends_with("KeyboardInterrupt: \n"), "{traceback}");
    assert_eq!(*out.borrow(), "finally ran\n");
    // The interrupt was used up: the next run is not interrupted.
    run(&rt, "print('again')\n").unwrap();
    assert_eq!(*out.borrow(), "finally ran\nagain\n");
}

#[test]
fn a_deadline_interrupts_waits_of_an_hour_in_the_loop_and_in_time_sleep() {
    let (b, out, _err) = capturing();
    let rt = b.build().unwrap();
    let handle = rt.handle();
    for (src, expect_ok) in [
        ("import asyncio\nasync def main():\n    await asyncio.sleep(3600)\nasyncio.run(main())\n", false),
        ("import time\ntry:\n    time.sleep(3600)\nexcept KeyboardInterrupt:\n    print('caught')\n", true),
    ] {
        let start = Instant::now();
        handle.interrupt_after(Duration::from_millis(200)).unwrap();
        let result = run(&rt, src);
        let took = start.elapsed();
        // Not before the deadline; well before the hour (5 s leaves room for a loaded machine).
        assert!(took >= Duration::from_millis(200) && took < Duration::from_secs(5), "{took:?}");
        match result {
            Ok(()) => assert!(expect_ok),
            Err(Error::Interrupted { traceback }) => assert!(!expect_ok, "{traceback}"),
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!(*out.borrow(), "caught\n");
}

#[test]
fn runtimes_on_separate_threads_keep_their_flags_and_interrupts_apart() {
    // Each thread sends back its runtime's handle and the receiver its `host.ready()` signals.
    let spawn = |name: &'static str, handles: mpsc::Sender<_>| {
        std::thread::spawn(move || {
            let (m, ready) = ready_signal();
            let (b, out, _err) = capturing();
            let rt = b.host_module(m).build().unwrap();
            handles.send((name, rt.handle(), ready)).unwrap();
            let result = run(
                &rt,
                "import asyncio, host, microloop\nasync def main():\n    host.ready()\n    await microloop.flag('go').wait()\n    print('go')\ntry:\n    asyncio.run(main())\nexcept KeyboardInterrupt:\n    print('interrupted')\n",
            );
            result.map(|()| out.borrow().clone()).map_err(|e| e.to_string())
        })
    };
    let (tx, rx) = mpsc::channel();
    let a = spawn("a", tx.clone());
    let b = spawn("b", tx);
    let mut handles: Vec<_> = rx.iter().take(2).collect();
    handles.sort_by_key(|h| h.0);
    for (_, _, ready) in &handles {
        ready.recv().unwrap();
    }
    // The same flag name in two runtimes names two flags; an interrupt reaches one runtime.
    handles[0].1.set_flag("go").unwrap();
    handles[1].1.interrupt().unwrap();
    assert_eq!(a.join().unwrap().unwrap(), "go\n");
    assert_eq!(b.join().unwrap().unwrap(), "interrupted\n");
}

#[test]
fn a_handle_reports_a_dropped_runtime() {
    let rt = Runtime::builder().build().unwrap();
    let handle = rt.handle();
    drop(rt);
    assert_eq!(handle.set_flag("x"), Err(microloop_runtime::Closed));
    assert!(handle.call_soon_threadsafe("f", []).is_err());
    assert!(handle.interrupt_after(Duration::from_secs(1)).is_err());
}

#[test]
fn calls_sent_by_a_handle_since_dropped_still_run() {
    let (b, out, _err) = capturing();
    let rt = b.build().unwrap();
    // Sent before the run starts, from a handle gone by then: the loop must take the calls in
    // before it decides that nothing can wake it.
    let handle = rt.handle();
    handle.call_soon_threadsafe("hello", [Value::Int(1)]).unwrap();
    drop(handle);
    run(&rt, "import asyncio\ndone = asyncio.Event()\ndef hello(n):\n    print('hello', n)\n    done.set()\nasync def main():\n    await done.wait()\n    print('done')\nasyncio.run(main())\n")
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(*out.borrow(), "hello 1\ndone\n");
}

#[test]
fn output_the_hosts_writer_refuses_fails_the_run() {
    /// Takes writes into a buffer that it can never flush, like a pipe whose reader left.
    struct Broken(Vec<u8>);
    impl std::io::Write for Broken {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe))
        }
    }
    let rt = Runtime::builder().stdout(Broken(Vec::new())).stderr(std::io::sink()).build().unwrap();
    let Err(Error::Exception(e)) = run(&rt, "print('lost?')\n") else { panic!("the failed flush must surface") };
    assert_eq!(e.type_name, "OSError");
}

#[test]
fn a_new_event_loop_abandons_host_calls_and_tells_the_host() {
    let told = Arc::new(AtomicBool::new(false));
    let held: Arc<Mutex<Vec<Completion>>> = Arc::default();
    let (t2, h2) = (told.clone(), held.clone());
    let m = HostModule::new("slow").async_function("op", move |_, done| {
        let t = t2.clone();
        done.on_cancel(move || t.store(true, Ordering::SeqCst));
        h2.lock().unwrap().push(done);
        Ok(())
    });
    let rt = Runtime::builder().host_module(m).build().unwrap();
    run(
        &rt,
        "import asyncio, slow\nasync def waiter():\n    await slow.op()\nasync def main():\n    asyncio.create_task(waiter())\n    await asyncio.sleep(0)\nasyncio.run(main())\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // asyncio.run returned with the other task still awaiting the host.
    assert!(!told.load(Ordering::SeqCst));
    run(&rt, "import asyncio\nasyncio.new_event_loop()\n").unwrap_or_else(|e| panic!("{e}"));
    assert!(told.load(Ordering::SeqCst), "the host heard the call was abandoned");
    assert!(held.lock().unwrap()[0].is_cancelled());
}

/// A one-shot channel as small as a test needs: the sender side fills the slot and wakes the
/// waker the future left there.
#[derive(Clone, Default)]
struct Slot(Arc<Mutex<(Option<Result<Value, HostError>>, Option<std::task::Waker>)>>);

impl Slot {
    fn send(&self, v: Result<Value, HostError>) {
        let mut s = self.0.lock().unwrap();
        s.0 = Some(v);
        if let Some(w) = s.1.take() {
            w.wake();
        }
    }
}

/// The receiving future; it sets its flag when dropped before it finished, so a test can see
/// cancellation.
struct Recv(Slot, Arc<AtomicBool>, bool);

impl std::future::Future for Recv {
    type Output = Result<Value, HostError>;
    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Self::Output> {
        let mut s = (self.0).0.lock().unwrap();
        match s.0.take() {
            Some(v) => {
                drop(s);
                self.2 = true;
                std::task::Poll::Ready(v)
            }
            None => {
                s.1 = Some(cx.waker().clone());
                std::task::Poll::Pending
            }
        }
    }
}

impl Drop for Recv {
    fn drop(&mut self) {
        if !self.2 {
            self.1.store(true, Ordering::SeqCst);
        }
    }
}

#[test]
fn future_host_functions_are_driven_by_the_loop_and_dropped_at_cancellation() {
    let (tx, rx) = mpsc::channel::<(i64, Slot)>();
    let dropped = Arc::new(AtomicBool::new(false));
    let d2 = dropped.clone();
    let m = HostModule::new("fut").async_fn("get", move |args| {
        let n = args.first().and_then(Value::as_int).ok_or_else(|| HostError::type_error("int expected"))?;
        let slot = Slot::default();
        tx.send((n, slot.clone())).map_err(|_| HostError::runtime_error("worker gone"))?;
        Ok(Recv(slot, d2.clone(), false))
    });
    // The worker answers 1 and 2 (an error) and never answers 3, whose task times out.
    let worker = std::thread::spawn(move || {
        for (n, slot) in rx.iter().take(3) {
            match n {
                1 => slot.send(Ok(Value::from("one"))),
                2 => slot.send(Err(HostError::os_error(110, "no reply"))),
                _ => std::mem::forget(slot),
            }
        }
    });
    let (b, out, _err) = capturing();
    let rt = b.host_module(m).build().unwrap();
    run(
        &rt,
        r#"
import asyncio, fut
async def main():
    print(await fut.get(1))
    try:
        await fut.get(2)
    except OSError as e:
        print("OSError", e.errno)
    try:
        await asyncio.wait_for(fut.get(3), 0.05)
    except asyncio.TimeoutError:
        print("timed out")
    try:
        fut.get("x")
    except TypeError as e:
        print("TypeError", e)
asyncio.run(main())
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    worker.join().unwrap();
    assert_eq!(*out.borrow(), "one\nOSError 110\ntimed out\nTypeError int expected\n");
    // Call 3's future was dropped when its task was cancelled.
    assert!(dropped.load(Ordering::SeqCst));
}

#[test]
fn busy_runtimes_on_two_threads_are_each_interrupted() {
    // Both interpreters check the VM's process-wide "signal pending" flag at every bytecode, so
    // each can clear the flag the other's interrupt raised; the handle must still get through.
    let (tx, rx) = mpsc::channel();
    let spawn = |tx: mpsc::Sender<_>| {
        std::thread::spawn(move || {
            let (m, ready) = ready_signal();
            let rt = Runtime::builder().host_module(m).build().unwrap();
            tx.send((rt.handle(), ready)).unwrap();
            matches!(run(&rt, "import host\nhost.ready()\nwhile True:\n    pass\n"), Err(Error::Interrupted { .. }))
        })
    };
    let threads = [spawn(tx.clone()), spawn(tx)];
    let handles: Vec<_> = rx.iter().take(2).collect();
    for (_, ready) in &handles {
        ready.recv().unwrap();
    }
    for (handle, _) in &handles {
        handle.interrupt().unwrap();
    }
    for t in threads {
        assert!(t.join().unwrap(), "ended by the interrupt");
    }
}

#[test]
fn awaiting_a_cancelled_host_call_again_raises_cancelled_error() {
    let held: Arc<Mutex<Vec<Completion>>> = Arc::default();
    let h2 = held.clone();
    let m = HostModule::new("slow").async_function("op", move |_, done| {
        h2.lock().unwrap().push(done);
        Ok(())
    });
    let (b, out, _err) = capturing();
    let rt = b.host_module(m).build().unwrap();
    run(
        &rt,
        r#"
import asyncio, slow
async def main():
    call = slow.op()
    try:
        await asyncio.wait_for(call, 0.01)
    except asyncio.TimeoutError:
        print("timed out")
    try:
        await call
    except asyncio.CancelledError:
        print("cancelled")
asyncio.run(main())
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(*out.borrow(), "timed out\ncancelled\n");
    assert!(held.lock().unwrap()[0].is_cancelled());
}
