//! The VM's ceiling for task switches: a Rust loop with nothing else to do resumes 100
//! coroutines, each running `for _ in range(2000): await sleep_ms(0)` on a native awaitable
//! that yields once, as microloop's `sleep_ms(0)` does. No scheduler, no queues, no timers:
//! what is left is the cost of resuming a coroutine on rustpython-vm, which bounds what any
//! scheduler on this VM can reach. `bench/run` compares the `switch` workload with it.
//!
//! The awaitable, `sleep_ms` and the module attribute lookup take the same fast paths as
//! microloop's (`__await__`, the call, `module.name`), from the same source file, so the
//! ceiling moves with them.
//!
//! ```text
//! cargo bench -p microloop-runtime --bench ceiling
//! ```

use std::time::Instant;

use microloop_runtime::rustpython_vm::{
    self, AsObject, Interpreter, PyRef, Settings, builtins::PyCoroutine, protocol::PyIterReturn,
};

#[path = "../src/asyncio/fastpath.rs"]
#[allow(dead_code)]
mod fastpath;

const TASKS: usize = 100;
const ROUNDS: usize = 2000;

#[rustpython_vm::pymodule(name = "ceiling")]
mod ceiling {
    use std::cell::Cell;

    use rustpython_vm::{
        AsObject, Py, PyObjectRef, PyPayload, PyResult, VirtualMachine,
        builtins::PyModule,
        class::PyClassImpl,
        protocol::PyIterReturn,
        pyclass,
        types::{IterNext, Iterable, SelfIter},
    };

    /// Yields once per await, like microloop's shared sleep object.
    #[pyattr]
    #[pyclass(name = "Yield")]
    #[derive(Debug, PyPayload)]
    pub(super) struct Yield {
        yielded: Cell<bool>,
    }

    #[pyclass(with(IterNext, Iterable))]
    impl Yield {}

    impl SelfIter for Yield {}

    impl IterNext for Yield {
        fn next(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
            if zelf.yielded.replace(false) {
                Ok(PyIterReturn::StopIteration(None))
            } else {
                zelf.yielded.set(true);
                Ok(PyIterReturn::Return(vm.ctx.none()))
            }
        }
    }

    thread_local! {
        static SHARED: std::cell::OnceCell<PyObjectRef> = const { std::cell::OnceCell::new() };
    }

    /// `sleep_ms(ms)`: returns the shared awaitable, as microloop's does.
    fn sleep_ms(_args: &[PyObjectRef], vm: &VirtualMachine) -> PyResult {
        Ok(SHARED.with(|s| s.get_or_init(|| Yield { yielded: Cell::new(false) }.into_ref(&vm.ctx).into()).clone()))
    }

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        super::fastpath::install_await(&Yield::make_static_type(), vm);
        let sleep_ms = super::fastpath::FastFunction::new_ref("sleep_ms", &["ms"], 1, sleep_ms, vm);
        module.as_object().set_attr("sleep_ms", sleep_ms, vm)
    }
}

fn main() {
    let mut settings = Settings::default();
    settings.import_site = false;
    let builder = Interpreter::builder(settings);
    let stdlib = rustpython_stdlib::stdlib_module_defs(&builder.ctx);
    let def = ceiling::module_def(&builder.ctx);
    let interp = builder
        .add_native_modules(&stdlib)
        .add_native_module(def)
        .add_frozen_modules(rustpython_pylib::FROZEN_STDLIB)
        .build();
    let rate = interp.enter(|vm| {
        fastpath::install_module_getattr(vm);
        let scope = vm.new_scope_with_builtins();
        let src = format!(
            "import ceiling\nasync def worker():\n    for _ in range({ROUNDS}):\n        await ceiling.sleep_ms(0)\ncoros = [worker() for _ in range({TASKS})]\n"
        );
        let code = vm.compile(&src, rustpython_vm::compiler::Mode::Exec, "<ceiling>".to_owned()).expect("compiles");
        vm.run_code_obj(code, scope.clone()).expect("runs");
        let list = scope.globals.get_item("coros", vm).expect("coros");
        let coros: Vec<PyRef<PyCoroutine>> = list
            .try_to_value::<Vec<rustpython_vm::PyObjectRef>>(vm)
            .expect("a list")
            .into_iter()
            .map(|c| c.downcast::<PyCoroutine>().expect("coroutines"))
            .collect();
        let mut live = coros;
        let mut resumes = 0u64;
        let start = Instant::now();
        while !live.is_empty() {
            live.retain(|c| {
                resumes += 1;
                match c.as_coro().send(c.as_object(), vm.ctx.none(), vm) {
                    Ok(PyIterReturn::Return(_)) => true,
                    Ok(PyIterReturn::StopIteration(_)) => false,
                    Err(e) => panic!("{}", microloop_runtime::traceback::format_exception(vm, &e)),
                }
            });
        }
        resumes as f64 / start.elapsed().as_secs_f64()
    });
    println!("ceiling {} resumes/s", rate as u64);
}
