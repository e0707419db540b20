//! `ThreadSafeFlag.set()` from a Rust thread wakes a loop blocked in the poller.

use std::time::{Duration, Instant};

use microloop_runtime::{Runtime, asyncio::flag_handle};

#[test]
fn flag_set_from_another_thread_wakes_the_blocked_loop() {
    let rt = Runtime::builder().build().expect("runtime");
    // Each run gets a fresh __main__, so the flag is kept on the sys module between runs.
    rt.run_source("import asyncio, sys\nsys.flag = asyncio.ThreadSafeFlag()\n", "<setup>").unwrap_or_else(|e| panic!("{e}"));
    let handle = rt.enter(|vm| {
        let flag = vm.sys_module.get_attr("flag", vm).expect("flag defined");
        flag_handle(&flag).expect("a ThreadSafeFlag")
    });
    let setter = std::thread::spawn(move || {
        // Let the loop reach the poller first; had it not, the wait would still succeed.
        std::thread::sleep(Duration::from_millis(50));
        handle.set();
    });
    let start = Instant::now();
    // The only timer is wait_for's 20 s timeout, so the loop blocks in the poller until the
    // flag is set; a missed wake-up raises TimeoutError and exits 1.
    let code = rt.run_source(
        "import asyncio, sys\nasync def main():\n    await asyncio.wait_for(sys.flag.wait(), 20)\nasyncio.run(main())\n",
        "<wait>",
    );
    setter.join().unwrap();
    code.unwrap_or_else(|e| panic!("{e}"));
    assert!(start.elapsed() < Duration::from_secs(10), "woke after {:?}", start.elapsed());
}

#[test]
fn two_runtimes_on_two_threads_share_nothing() {
    let run = |n: u32| {
        std::thread::spawn(move || {
            let rt = Runtime::builder().build().expect("runtime");
            let src = format!(
                "import asyncio\nasync def w(i):\n    await asyncio.sleep_ms(1)\n    return i\nasync def main():\n    r = await asyncio.gather(*[w(i) for i in range({n})])\n    assert r == list(range({n})), r\nasyncio.run(main())\n"
            );
            rt.run_source(&src, "<thread>")
        })
    };
    let (a, b) = (run(50), run(70));
    a.join().unwrap().unwrap_or_else(|e| panic!("{e}"));
    b.join().unwrap().unwrap_or_else(|e| panic!("{e}"));
}
