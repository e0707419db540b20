//! The loop on a manual clock: when every task waits on a timer, time jumps to the next
//! deadline, so timing-heavy scripts run at once and deterministically.

use std::sync::Arc;
use std::time::{Duration, Instant};

use microloop_core::{Clock, ManualClock};
use microloop_runtime::Runtime;

#[test]
fn sleeping_jumps_virtual_time_in_deadline_order() {
    let clock = Arc::new(ManualClock::new(0));
    let rt = Runtime::builder().clock(clock.clone()).build().expect("runtime");
    let started = Instant::now();
    let code = rt.run_source(
        "import asyncio, time, sys\n\
         log = []\n\
         async def sleeper(name, ms):\n\
         \x20   await asyncio.sleep_ms(ms)\n\
         \x20   log.append((name, time.ticks_ms()))\n\
         async def main():\n\
         \x20   await asyncio.gather(sleeper('c', 3000), sleeper('a', 1000), sleeper('b', 2000), sleeper('a2', 1000))\n\
         \x20   await asyncio.sleep(100)\n\
         asyncio.run(main())\n\
         assert log == [('a', 1000), ('a2', 1000), ('b', 2000), ('c', 3000)], log\n\
         assert time.ticks_ms() == 103000, time.ticks_ms()\n",
        "<virtual>",
    );
    code.unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(clock.now_us(), 103_000_000);
    // 103 s of virtual time; the bound only says no real sleeping happened.
    assert!(started.elapsed() < Duration::from_secs(5));
}
