//! A host that gives scripts an async `sensor.read_sensor(channel)`. The read runs on a worker
//! thread standing for a slow bus transaction; the awaiting task sleeps meanwhile, other tasks
//! keep running, and the worker's answer resumes it through the loop's waker.
//!
//! ```text
//! cargo run --ignore-rust-version --profile quick-release -p microloop-runtime --example sensor_host
//! ```

use std::sync::mpsc;
use std::time::Duration;

use microloop_runtime::{Completion, HostError, HostModule, Runtime, Value};

const SCRIPT: &str = r#"
import asyncio, sensor

async def heartbeat(stop):
    beats = 0
    while not stop.is_set():
        beats += 1
        await asyncio.sleep_ms(1)
    return beats

async def main():
    stop = asyncio.Event()
    hb = asyncio.create_task(heartbeat(stop))
    print("unit:", sensor.UNIT)
    t = await sensor.read_sensor(0)
    print("channel 0:", t)
    both = await asyncio.gather(sensor.read_sensor(1), sensor.read_sensor(2))
    print("channels 1 and 2:", both)
    try:
        await sensor.read_sensor(7)
    except ValueError as e:
        print("channel 7:", e)
    stop.set()
    # The heartbeat kept beating while the reads were in flight.
    print("heartbeat ran while waiting:", await hb > 1)

asyncio.run(main())
"#;

/// One request for the worker: the channel and where the answer goes.
type Job = (i64, Completion);

/// The worker: answers each read after a bus transaction's delay.
fn worker(jobs: mpsc::Receiver<Job>) {
    for (channel, done) in jobs {
        std::thread::sleep(Duration::from_millis(20));
        done.ok(20.0 + channel as f64 * 0.5);
    }
}

fn main() {
    let (tx, rx) = mpsc::channel::<Job>();
    let worker = std::thread::spawn(move || worker(rx));
    let sensor = HostModule::new("sensor").constant("UNIT", "degC").async_function("read_sensor", move |args, done| {
        // Bad arguments raise at the call, before anything is awaited.
        let channel = match args {
            [Value::Int(c @ 0..=3)] => *c,
            [Value::Int(c)] => return Err(HostError::value_error(format!("no channel {c}"))),
            _ => return Err(HostError::type_error("read_sensor() takes one int")),
        };
        tx.send((channel, done)).map_err(|_| HostError::runtime_error("sensor worker stopped"))
    });
    let rt = Runtime::builder().host_module(sensor).build().expect("the loop's poller");
    let result = rt.run_source(SCRIPT, "sensor_demo.py");
    // The runtime owns the sender inside the module; dropping it ends the worker.
    drop(rt);
    worker.join().expect("worker");
    if let Err(e) = result {
        eprintln!("{e}");
        std::process::exit(e.exit_code());
    }
}
