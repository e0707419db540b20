//! A host that runs a script meant to run forever for 2 seconds, then stops it cleanly: it asks
//! `run_forever` to stop, and the script's `finally` reports and tidies up. A deadline stands
//! behind the request in case the script does not stop: it raises KeyboardInterrupt, as
//! Ctrl-C would.
//!
//! ```text
//! cargo run --ignore-rust-version --profile quick-release -p microloop-runtime --example timed_stop
//! ```

use std::time::{Duration, Instant};

use microloop_runtime::{Error, Runtime};

const SCRIPT: &str = r#"
import asyncio

ticks = 0

async def ticker():
    global ticks
    while True:
        await asyncio.sleep_ms(100)
        ticks += 1

loop = asyncio.get_event_loop()
loop.create_task(ticker())
try:
    loop.run_forever()
finally:
    print("stopped after", ticks, "ticks; cleaned up")
"#;

fn main() {
    let rt = Runtime::builder().build().expect("the loop's poller");
    let handle = rt.handle();
    // If the script ignored the stop, this would end it a second later.
    handle.interrupt_after(Duration::from_secs(3)).expect("runtime alive");
    let start = Instant::now();
    let stopper = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(2));
        handle.stop().expect("runtime alive");
    });
    let result = rt.run_source(SCRIPT, "forever.py");
    stopper.join().expect("stopper");
    let took = start.elapsed().as_secs_f64();
    match result {
        Ok(()) => println!("the script stopped cleanly after {took:.1} s"),
        Err(Error::Interrupted { traceback }) => {
            eprintln!("the script ignored the stop and was interrupted:\n{traceback}");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(e.exit_code());
        }
    }
}
