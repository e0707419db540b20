//! Objects a script awaited live as long as the script refers to them, not longer: the loop's
//! reuse of `__await__` wrappers keeps nothing alive. (CPython's loop holds a finished task
//! until its next iteration, so it frees them later; MicroPython frees them at a collection.)

use std::cell::RefCell;
use std::rc::Rc;

use microloop_runtime::Runtime;

const SCRIPT: &str = r#"
import asyncio

class Resource:
    def __init__(self, name):
        self.name = name

    def __del__(self):
        print(self.name, "freed")

async def make(name):
    await asyncio.sleep(0)
    return Resource(name)

async def main():
    task = asyncio.create_task(make("first"))
    result = await task
    del result, task
    print("after first")
    result = await asyncio.create_task(make("second"))
    result = None
    print("after second")
    results = await asyncio.gather(make("third"), make("fourth"))
    del results
    print("after gather")
    waiter = asyncio.wait_for(make("fifth"), 1)
    result = await waiter
    del waiter, result
    print("after wait_for")
    kept = asyncio.create_task(make("sixth"))
    bound = kept.__await__
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    del kept
    print("still bound")
    del bound
    print("after bound")

asyncio.run(main())
print("done")
"#;

#[test]
fn awaited_objects_are_freed_when_the_script_lets_go_of_them() {
    let out = Rc::new(RefCell::new(String::new()));
    let sink = out.clone();
    let rt = Runtime::builder().stdout_fn(move |text| sink.borrow_mut().push_str(text)).build().unwrap();
    rt.run_source(SCRIPT, "lifetimes.py").unwrap();
    assert_eq!(
        *out.borrow(),
        "first freed\nafter first\nsecond freed\nafter second\nthird freed\nfourth freed\nafter gather\n\
         fifth freed\nafter wait_for\nstill bound\nsixth freed\nafter bound\ndone\n"
    );
}
