//! MicroPython's companion modules: `micropython`, the `time.ticks_*` family and
//! `sys.print_exception`.

use rustpython_vm::{PyResult, VirtualMachine};

pub(crate) use micropython::module_def as micropython_module_def;
pub(crate) use mltime::module_def as time_ext_module_def;

/// Adds the MicroPython-only functions to the VM's `time` and `sys` modules.
pub(crate) fn extend_std_modules(vm: &VirtualMachine) -> PyResult<()> {
    let time = vm.import("time", 0)?;
    let ext = vm.import("_microloop_time", 0)?;
    for name in mltime::NAMES {
        time.set_attr(*name, ext.get_attr(*name, vm)?, vm)?;
    }
    let print_exception = ext.get_attr("print_exception", vm)?;
    vm.sys_module.set_attr("print_exception", print_exception, vm)?;
    set_implementation(vm)
}

/// The version of MicroPython whose asyncio API and behaviour microloop follows, as
/// `sys.implementation.version` gives it.
const MICROPYTHON_VERSION: (u8, u8, u8) = (1, 28, 0);

/// `sys.implementation` as MicroPython's unix port describes itself, for the libraries that
/// choose their MicroPython code path by `sys.implementation.name`: `name` is `micropython`,
/// `version` a 4-tuple, `_machine` names the platform and microloop, `_build` the build. The
/// VM's own fields (`cache_tag`, which the import system reads) stay. `_mpy` is left out on
/// purpose: microloop loads no `.mpy` files, and `mip` asks for compiled packages when the
/// attribute is there and for source when it is not.
fn set_implementation(vm: &VirtualMachine) -> PyResult<()> {
    let implementation = vm.sys_module.get_attr("implementation", vm)?;
    let (major, minor, micro) = MICROPYTHON_VERSION;
    let version: rustpython_vm::PyObjectRef = vm.new_tuple((major, minor, micro, vm.ctx.new_str(""))).into();
    let machine = format!("linux [microloop {} on RustPython 0.6.0] version", env!("CARGO_PKG_VERSION"));
    implementation.set_attr("name", vm.ctx.new_str("micropython"), vm)?;
    implementation.set_attr("version", version, vm)?;
    implementation.set_attr("_machine", vm.ctx.new_str(machine), vm)?;
    implementation.set_attr("_build", vm.ctx.new_str("microloop"), vm)?;
    Ok(())
}

/// Sets the cycle collector's thresholds for the interpreter `vm` belongs to (from the
/// interpreter's init hook, before the standard library is set up).
///
/// The VM collects its youngest generation after every 2,000 net container allocations by
/// default. A program that creates tasks in bulk then pays for many collections that each walk
/// the tasks still alive: bench/create.py runs 682 M instructions with 2,000 and 590 M with
/// 5,000 (callgrind), no fewer with more. A larger young generation no longer pays on programs
/// that allocate and drop objects (bench/objects.py: 1,498 M instructions with 2,000 to 10,000)
/// and falls out of the CPU's caches: 50,000, the value RustPython 0.5's costlier collector
/// wanted, made bench/objects.py about 10% slower in wall time and bench/timers.py's p99 later.
/// Scripts can still call gc.set_threshold or gc.collect.
pub(crate) fn set_gc_thresholds(vm: &VirtualMachine) {
    vm.state.gc.set_threshold(GC_GEN0_THRESHOLD, Some(10), Some(0));
}

/// Net container allocations between two collections of the youngest generation.
const GC_GEN0_THRESHOLD: u32 = 5_000;

#[rustpython_vm::pymodule(name = "micropython")]
mod micropython {
    use std::cell::Cell;

    use rustpython_vm::{PyObjectRef, PyResult, VirtualMachine, function::OptionalArg};

    use crate::asyncio::core::sched;

    thread_local! {
        static OPT_LEVEL: Cell<i64> = const { Cell::new(0) };
        static HEAP_LOCK_DEPTH: Cell<i64> = const { Cell::new(0) };
    }

    /// Declares a constant; returns its argument.
    #[pyfunction(name = "const")]
    fn const_(value: PyObjectRef) -> PyObjectRef {
        value
    }

    /// Queues `func(arg)` to run on the loop's thread between task steps (a soft IRQ).
    /// RuntimeError "schedule queue full" when too many are pending.
    #[pyfunction]
    fn schedule(func: PyObjectRef, arg: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        if !func.is_callable() {
            return Err(vm.new_type_error("'func' is not callable"));
        }
        sched().schedule(func, arg, vm)
    }

    /// Gets, or sets and returns None, the optimisation level (recorded only).
    #[pyfunction]
    fn opt_level(level: OptionalArg<i64>) -> Option<i64> {
        match level {
            OptionalArg::Present(l) => {
                OPT_LEVEL.with(|c| c.set(l));
                None
            }
            OptionalArg::Missing => Some(OPT_LEVEL.with(|c| c.get())),
        }
    }

    /// Counts a heap lock level. The host heap is never actually locked: allocation goes on.
    #[pyfunction]
    fn heap_lock() {
        HEAP_LOCK_DEPTH.with(|d| d.set(d.get() + 1));
    }

    /// Drops one heap lock level and returns the levels still held.
    #[pyfunction]
    fn heap_unlock() -> i64 {
        HEAP_LOCK_DEPTH.with(|d| {
            d.set((d.get() - 1).max(0));
            d.get()
        })
    }

    /// The number of heap lock levels held.
    #[pyfunction]
    fn heap_locked() -> i64 {
        HEAP_LOCK_DEPTH.with(|d| d.get())
    }

    /// Accepted for compatibility: exceptions never need an emergency buffer here.
    #[pyfunction]
    fn alloc_emergency_exception_buf(_size: PyObjectRef) {}

    /// Accepted for compatibility: Ctrl-C always raises KeyboardInterrupt here.
    #[pyfunction]
    fn kbd_intr(_chr: PyObjectRef) {}

    /// Prints the process's memory use (MicroPython prints its heap statistics).
    #[pyfunction]
    fn mem_info(_verbose: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
        let rss = resident_bytes().map_or_else(|| "unknown".to_owned(), |b| b.to_string());
        let text = format!("mem: resident {rss} bytes (microloop has no MicroPython heap)\n");
        let stdout = vm.sys_module.get_attr("stdout", vm)?;
        crate::traceback::write_to(vm, &stdout, &text)
    }

    /// Accepted for compatibility; prints nothing.
    #[pyfunction]
    fn qstr_info(_verbose: OptionalArg<PyObjectRef>) {}

    /// Decorator accepted for compatibility: the function runs as ordinary Python.
    #[pyfunction]
    fn native(f: PyObjectRef) -> PyObjectRef {
        f
    }

    /// Decorator accepted for compatibility: the function runs as ordinary Python.
    #[pyfunction]
    fn viper(f: PyObjectRef) -> PyObjectRef {
        f
    }

    /// Decorator accepted for compatibility: the function runs as ordinary Python.
    #[pyfunction]
    fn bytecode(f: PyObjectRef) -> PyObjectRef {
        f
    }

    fn resident_bytes() -> Option<u64> {
        let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
        let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
        Some(pages * 4096)
    }
}

#[rustpython_vm::pymodule(name = "_microloop_time")]
mod mltime {
    use microloop_core::ticks::{TICKS_HALFPERIOD, ticks_add as add, ticks_diff as diff, ticks_wrap};
    use rustpython_vm::{
        PyObjectRef, PyResult, VirtualMachine, builtins::PyBaseExceptionRef, function::OptionalArg,
    };

    use crate::asyncio::core::sched;

    /// The names copied into `time`.
    pub(super) const NAMES: &[&str] =
        &["ticks_ms", "ticks_us", "ticks_cpu", "ticks_add", "ticks_diff", "sleep", "sleep_ms", "sleep_us"];

    /// Milliseconds on the loop's clock, wrapping at 2**30.
    #[pyfunction]
    fn ticks_ms() -> i64 {
        ticks_wrap(sched().read_us() / 1000)
    }

    /// Microseconds on the loop's clock, wrapping at 2**30.
    #[pyfunction]
    fn ticks_us() -> i64 {
        ticks_wrap(sched().read_us())
    }

    /// The finest counter available: microseconds here.
    #[pyfunction]
    fn ticks_cpu() -> i64 {
        ticks_wrap(sched().read_us())
    }

    /// `ticks + delta` modulo 2**30. OverflowError if `delta` is outside [-2**29, 2**29).
    #[pyfunction]
    fn ticks_add(ticks: i64, delta: i64, vm: &VirtualMachine) -> PyResult<i64> {
        if !(-TICKS_HALFPERIOD..TICKS_HALFPERIOD).contains(&delta) {
            return Err(vm.new_overflow_error("ticks interval overflow"));
        }
        Ok(add(ticks, delta))
    }

    /// Signed distance from `start` to `end` in ticks, correct across wrap-around.
    #[pyfunction]
    fn ticks_diff(end: i64, start: i64) -> i64 {
        diff(end, start)
    }

    /// Blocks for `secs` seconds, an int or a float (advances a virtual clock instead).
    #[pyfunction]
    fn sleep(secs: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        sched().block_for(crate::asyncio::core::seconds_to_us(&secs, vm)?, vm)
    }

    /// Blocks for `ms` milliseconds (advances a virtual clock instead of sleeping); runs pending
    /// `micropython.schedule` callbacks and pin interrupts meanwhile, as MicroPython does.
    #[pyfunction]
    fn sleep_ms(ms: i64, vm: &VirtualMachine) -> PyResult<()> {
        sched().block_for(ms.max(0) as u64 * 1000, vm)
    }

    /// Blocks for `us` microseconds (advances a virtual clock instead of sleeping).
    #[pyfunction]
    fn sleep_us(us: i64, vm: &VirtualMachine) -> PyResult<()> {
        sched().block_for(us.max(0) as u64, vm)
    }

    /// Prints `exc` with its traceback to `file` (default `sys.stdout`), in MicroPython's format.
    #[pyfunction]
    fn print_exception(exc: PyBaseExceptionRef, file: OptionalArg<PyObjectRef>, vm: &VirtualMachine) -> PyResult<()> {
        let file = match file {
            OptionalArg::Present(f) => f,
            OptionalArg::Missing => vm.sys_module.get_attr("stdout", vm)?,
        };
        crate::traceback::write_to(vm, &file, &crate::traceback::format_exception(vm, &exc))
    }
}

