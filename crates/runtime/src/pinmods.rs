//! The Python face of the pin model: `machine.Pin` (also `pyb.Pin`), `machine.Signal`,
//! `machine.PinBase`, `pyb.LED` and `pyb.Switch`, and the pins as a wake-up source of the loop
//! ([`PinSource`]), which queues the interrupt handlers that edges fire to run between task
//! steps. Also the board's timers, `machine.Timer` (soft timers) and `pyb.Timer`, and their
//! wake-up source ([`TimerSource`]), and `machine.idle`.
//!
//! These classes only translate arguments and errors; the model itself is
//! [`microloop_core::pins::Pins`], held by the pin source among the scheduler's sources.
//! Constants follow the Raspberry Pi Pico port (`IN`=0, `OUT`=1, `OPEN_DRAIN`=2, `PULL_UP`=1,
//! `PULL_DOWN`=2, `IRQ_FALLING`=4, `IRQ_RISING`=8) and error messages MicroPython's.

use std::cell::{Cell, RefCell, RefMut};
use std::collections::HashMap;

use microloop_core::pins::{Edges, Line, Mode, PinError, PinId, Pins, Pull, Trace};
use microloop_core::{Interest, Readiness};
use rustpython_vm::{
    AsObject, Py, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine,
    builtins::{PyBaseExceptionRef, PyInt, PyStr, PyType, PyTypeRef},
    class::PyClassImpl,
    function::FuncArgs,
    pyclass,
    types::{Callable, Constructor, Representable},
};

use crate::asyncio::core::{Scheduler, sched};
use crate::asyncio::sources::{Callback, Registry, Source, SourceId, Stage};

/// `IRQ_FALLING`, as on the Pico.
const IRQ_FALLING: i64 = 4;
/// `IRQ_RISING`, as on the Pico.
const IRQ_RISING: i64 = 8;

/// An interrupt handler as the script registered it.
struct Handler {
    func: PyObjectRef,
    /// The pin for `Pin.irq`, nothing for `Switch.callback`.
    args: Vec<PyObjectRef>,
    hard: bool,
    /// The irq object whose `flags()` tells the handler which edge fired.
    irq: Option<PyRef<PyPinIrq>>,
}

/// The pin bank and what Python attached to it.
struct PinGlue {
    /// The model.
    pins: Pins,
    handlers: HashMap<Line, Handler>,
    /// `LED.intensity` of the LEDs that have been given one.
    intensity: HashMap<Line, i64>,
}

impl PinGlue {
    /// The handlers of the interrupts fired since the last call, ready to queue.
    fn queue_irqs(&mut self) -> Vec<Callback> {
        let mut out = Vec::new();
        for irq in self.pins.take_irqs() {
            let Some(h) = self.handlers.get(&irq.line) else { continue };
            if let Some(obj) = &h.irq {
                obj.flags.set(edges_to_trigger(irq.edge));
            }
            let on_error = h.hard.then_some((irq_handler_failed as fn(&Scheduler, usize, &VirtualMachine), irq.line));
            out.push(Callback { func: h.func.clone(), args: h.args.clone(), on_error });
        }
        out
    }
}

/// The pins as a wake-up source: edges and stimulus changes that fall due fire interrupts,
/// whose handlers it queues with the scheduled callbacks.
///
/// It is armed while something may be due: edges to read, interrupts to queue, a change the
/// backend has scheduled. What is due moves only when the bank is used, so the source is armed
/// by its descriptor, by each change the script makes ([`PinSource::glue_mut`]) and by a
/// deadline the loop sleeps until, and disarms itself once nothing is due: a script that does
/// not use its pins costs the loop nothing.
pub(crate) struct PinSource {
    id: SourceId,
    glue: RefCell<PinGlue>,
    /// Set when the backend's descriptor turned readable: edges wait to be read.
    ready: Cell<bool>,
}

impl PinSource {
    /// Adds the pins to the scheduler being installed, with the backend's descriptor if it has
    /// one.
    pub(crate) fn register(registry: &mut Registry, pins: Pins) -> std::io::Result<()> {
        let fd = pins.event_fd();
        let glue = PinGlue { pins, handlers: HashMap::new(), intensity: HashMap::new() };
        let id = registry.add(Stage::Interrupts, |id| PinSource { id, glue: RefCell::new(glue), ready: Cell::new(false) });
        registry.arm(id);
        if let Some(fd) = fd {
            registry.register(id, fd, Interest::Read)?;
        }
        TimerSource::register(registry);
        Ok(())
    }

    fn of(sched: &Scheduler) -> &PinSource {
        sched.source::<PinSource>().expect("every scheduler has a pin source")
    }

    /// The bank, for a change the script makes: the source is armed, so that the next pass
    /// looks for the interrupts and changes the call may have caused.
    fn glue_mut(&self, sched: &Scheduler) -> RefMut<'_, PinGlue> {
        sched.arm(self.id);
        self.glue.borrow_mut()
    }

    /// Whether edges may wait to be read, interrupts to be queued, or a change to fall due.
    fn pending(&self) -> bool {
        let glue = self.glue.borrow();
        self.ready.get() || glue.pins.has_irqs() || glue.pins.next_change_us().is_some()
    }

    /// Takes in the pin changes that are due (stimulus, hardware edges, the script's own
    /// writes) and queues the interrupt handlers they fire.
    fn pump(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        let mut glue = self.glue.borrow_mut();
        let due = self.ready.replace(false) || glue.pins.next_change_us().is_some_and(|t| t <= sched.now_us());
        if due {
            glue.pins.poll().map_err(|e| pin_error(e, vm))?;
        }
        if glue.pins.has_irqs() {
            let fired = glue.queue_irqs();
            drop(glue);
            sched.callbacks.extend(sched, fired);
        }
        Ok(())
    }
}

impl Source for PinSource {
    fn wait_io_event(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        if self.pending() {
            self.pump(sched, vm)
        } else {
            sched.disarm(self.id);
            Ok(())
        }
    }

    fn ready(&self, sched: &Scheduler, _ev: &Readiness) {
        self.ready.set(true);
        sched.arm(self.id);
    }

    fn can_wake(&self) -> bool {
        self.glue.borrow().pins.may_interrupt()
    }

    fn next_deadline(&self) -> Option<u64> {
        self.glue.borrow().pins.next_change_us()
    }

    fn idle(&self) {
        self.glue.borrow_mut().pins.idle();
    }
}

/// A hard interrupt's handler raised: its interrupt is disabled, with MicroPython's message
/// (the exception is printed after it).
fn irq_handler_failed(sched: &Scheduler, line: Line, vm: &VirtualMachine) {
    let mut glue = PinSource::of(sched).glue_mut(sched);
    if let Some(irq) = glue.handlers.remove(&line).and_then(|h| h.irq) {
        irq.trigger.set(0);
    }
    drop(glue.pins.set_irq(line, Edges::NONE));
    drop(glue);
    crate::traceback::write_stderr(vm, "Uncaught exception in IRQ callback handler\n");
}

/// Runs `f` on the loop's pin bank and what Python attached to it.
fn with_glue<R>(f: impl FnOnce(&mut PinGlue) -> R) -> R {
    let s = sched();
    let mut glue = PinSource::of(&s).glue_mut(&s);
    f(&mut glue)
}

/// Ends the pin recording at the present time and returns it.
pub(crate) fn finish_trace() -> Trace {
    with_glue(|glue| {
        glue.pins.finish();
        glue.pins.trace().clone()
    })
}

/// The Python exception for a pin error: ValueError for a line that does not exist, with
/// MicroPython's words; OSError for a hardware failure.
fn pin_error(e: PinError, vm: &VirtualMachine) -> PyBaseExceptionRef {
    match e {
        PinError::NoSuchPin(PinId::Num(_)) => vm.new_value_error("invalid pin"),
        PinError::NoSuchPin(PinId::Name(name)) => vm.new_value_error(format!("unknown named pin \"{name}\"")),
        PinError::NoSuchPin(id) => vm.new_value_error(format!("{id} doesn't exist")),
        PinError::Io(msg) => vm.new_os_error(msg),
    }
}

/// Runs `f` on the loop's pin bank, turning its error into a Python exception.
fn with_pins<R>(vm: &VirtualMachine, f: impl FnOnce(&mut Pins) -> Result<R, PinError>) -> PyResult<R> {
    with_glue(|glue| f(&mut glue.pins)).map_err(|e| pin_error(e, vm))
}

/// MicroPython's integer conversion: ints (and bools) only, with its message otherwise.
pub(crate) fn mp_int(obj: &PyObjectRef, vm: &VirtualMachine) -> PyResult<i64> {
    match obj.downcast_ref::<PyInt>() {
        Some(i) => i.try_to_primitive::<i64>(vm),
        None => Err(vm.new_type_error(format!("can't convert {} to int", obj.class().name()))),
    }
}

/// Checks the count of positional arguments as MicroPython's native functions do, with its
/// words: `min..=max` arguments, `selves` of them the object a method is bound to (counted in
/// the message, as MicroPython counts it). Keywords are refused.
pub(crate) fn mp_arity(args: &FuncArgs, min: usize, max: usize, selves: usize, vm: &VirtualMachine) -> PyResult<()> {
    if !args.kwargs.is_empty() {
        return Err(vm.new_type_error("function doesn't take keyword arguments"));
    }
    let given = args.args.len() + selves;
    let (min, max) = (min + selves, max + selves);
    if min == max && given != min {
        return Err(vm.new_type_error(format!("function takes {min} positional arguments but {given} were given")));
    }
    if given < min {
        return Err(vm.new_type_error(format!("function missing {} required positional arguments", min - given)));
    }
    if given > max {
        return Err(vm.new_type_error(format!("function expected at most {max} arguments, got {given}")));
    }
    Ok(())
}

/// Binds arguments as MicroPython's argument parser does: `pos` may come by position or by
/// keyword, `kw_only` by keyword only; extra ones get MicroPython's errors.
fn bind(args: FuncArgs, pos: &[&str], kw_only: &[&str], vm: &VirtualMachine) -> PyResult<Vec<Option<PyObjectRef>>> {
    if args.args.len() > pos.len() {
        return Err(vm.new_type_error("extra positional arguments given"));
    }
    let mut out: Vec<Option<PyObjectRef>> = vec![None; pos.len() + kw_only.len()];
    for (slot, value) in out.iter_mut().zip(args.args) {
        *slot = Some(value);
    }
    for (name, value) in args.kwargs {
        let index = pos.iter().chain(kw_only).position(|n| Ok(*n) == name.as_str());
        match index {
            Some(i) if out[i].is_none() => out[i] = Some(value),
            Some(_) => return Err(vm.new_type_error(format!("argument '{name}' given twice"))),
            None => return Err(vm.new_type_error("extra keyword arguments given")),
        }
    }
    Ok(out)
}

/// The one optional argument of a getter-setter such as `mode([m])`.
fn optional_arg(args: FuncArgs, name: &str, vm: &VirtualMachine) -> PyResult<Option<PyObjectRef>> {
    Ok(bind(args, &[name], &[], vm)?.pop().flatten())
}

/// `mode=`: -1 or None leaves it; otherwise IN, OUT or OPEN_DRAIN.
fn parse_mode(obj: Option<PyObjectRef>, vm: &VirtualMachine) -> PyResult<Option<Mode>> {
    let Some(obj) = obj.filter(|o| !vm.is_none(o)) else { return Ok(None) };
    match mp_int(&obj, vm)? {
        -1 => Ok(None),
        0 => Ok(Some(Mode::In)),
        1 => Ok(Some(Mode::Out)),
        2 => Ok(Some(Mode::OpenDrain)),
        m => Err(vm.new_value_error(format!("invalid pin mode: {m}"))),
    }
}

/// `pull=`: -1 leaves it; None or 0 means no pull; otherwise PULL_UP or PULL_DOWN.
fn parse_pull(obj: Option<PyObjectRef>, vm: &VirtualMachine) -> PyResult<Option<Pull>> {
    let Some(obj) = obj else { return Ok(None) };
    if vm.is_none(&obj) {
        return Ok(Some(Pull::None));
    }
    match mp_int(&obj, vm)? {
        -1 => Ok(None),
        0 => Ok(Some(Pull::None)),
        1 => Ok(Some(Pull::Up)),
        2 => Ok(Some(Pull::Down)),
        p => Err(vm.new_value_error(format!("invalid pin pull: {p}"))),
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::In => "IN",
        Mode::Out => "OUT",
        Mode::OpenDrain => "OPEN_DRAIN",
    }
}

fn edges_to_trigger(edges: Edges) -> i64 {
    (if edges.rising { IRQ_RISING } else { 0 }) | (if edges.falling { IRQ_FALLING } else { 0 })
}

fn trigger_to_edges(trigger: i64) -> Edges {
    Edges { rising: trigger & IRQ_RISING != 0, falling: trigger & IRQ_FALLING != 0 }
}

/// `machine.Pin` (also `pyb.Pin`): one GPIO line.
#[pyclass(module = "machine", name = "Pin")]
#[derive(Debug, PyPayload)]
pub struct PyPin {
    line: Line,
}

impl PyPin {
    /// `init`'s arguments: mode, pull, value (drive and alt are accepted and have no effect).
    fn init_args(&self, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let a = bind(args, &["mode", "pull"], &["value", "drive", "alt"], vm)?;
        let mut a = a.into_iter();
        let mode = parse_mode(a.next().flatten(), vm)?;
        let pull = parse_pull(a.next().flatten(), vm)?;
        let value = match a.next().flatten() {
            Some(v) if !vm.is_none(&v) => Some(v.try_to_bool(vm)?),
            _ => None,
        };
        with_pins(vm, |p| p.configure(self.line, mode, pull, value))
    }

    /// `value()` and `pin()`: no argument reads, one writes.
    fn value_args(&self, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if !args.kwargs.is_empty() {
            return Err(vm.new_type_error("function doesn't take keyword arguments"));
        }
        match args.args.as_slice() {
            [] => Ok(vm.ctx.new_int(with_pins(vm, |p| p.read(self.line))? as i64).into()),
            [v] => {
                let level = v.clone().try_to_bool(vm)?;
                with_pins(vm, |p| p.write(self.line, level))?;
                Ok(vm.ctx.none())
            }
            more => Err(vm.new_type_error(format!("function expected at most 2 arguments, got {}", more.len() + 1))),
        }
    }

    fn set(&self, level: bool, vm: &VirtualMachine) -> PyResult<()> {
        with_pins(vm, |p| p.write(self.line, level))
    }
}

impl Constructor for PyPin {
    type Args = FuncArgs;
    fn py_new(_cls: &Py<PyType>, mut args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        if args.args.is_empty() {
            return Err(vm.new_type_error("function missing 1 required positional arguments"));
        }
        let id_obj = args.args.remove(0);
        let line = if let Some(pin) = id_obj.downcast_ref::<PyPin>() {
            pin.line
        } else {
            let id = if let Some(s) = id_obj.downcast_ref::<PyStr>() {
                PinId::Name(s.to_string_lossy().into_owned())
            } else if let Some(i) = id_obj.downcast_ref::<PyInt>() {
                PinId::Num(i.try_to_primitive::<i64>(vm).map_err(|_| vm.new_value_error("invalid pin"))?)
            } else {
                return Err(vm.new_value_error("invalid pin"));
            };
            with_pins(vm, |p| p.open(&id))?
        };
        let pin = PyPin { line };
        if !args.args.is_empty() || !args.kwargs.is_empty() {
            pin.init_args(args, vm)?;
        }
        Ok(pin)
    }
}

impl Callable for PyPin {
    type Args = FuncArgs;
    fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        zelf.value_args(args, vm)
    }
}

impl Representable for PyPin {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        let s = sched();
        let glue = PinSource::of(&s).glue.borrow();
        let p = &glue.pins;
        let id = match p.id(zelf.line) {
            PinId::Num(n) => n.to_string(),
            PinId::Name(s) => format!("'{s}'"),
            other => other.to_string(),
        };
        let mut text = format!("Pin({id}");
        if let Some(mode) = p.mode(zelf.line) {
            text.push_str(", mode=");
            text.push_str(mode_name(mode));
        }
        match p.pull(zelf.line) {
            Pull::None => {}
            Pull::Up => text.push_str(", pull=PULL_UP"),
            Pull::Down => text.push_str(", pull=PULL_DOWN"),
        }
        text.push(')');
        Ok(text)
    }
}

#[pyclass(with(Constructor, Callable, Representable))]
impl PyPin {
    /// Re-initialises the pin: `init(mode=-1, pull=-1, *, value=None)`.
    #[pymethod]
    fn init(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        zelf.init_args(args, vm)
    }

    /// `value()` reads the level (0 or 1); `value(x)` sets the output to `bool(x)`.
    #[pymethod]
    fn value(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        zelf.value_args(args, vm)
    }

    /// Sets the output to 1.
    #[pymethod]
    fn on(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(true, vm)
    }

    /// Sets the output to 0.
    #[pymethod]
    fn off(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(false, vm)
    }

    /// Sets the output to 1.
    #[pymethod]
    fn high(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(true, vm)
    }

    /// Sets the output to 0.
    #[pymethod]
    fn low(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set(false, vm)
    }

    /// Inverts the output.
    #[pymethod]
    fn toggle(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        let latch = with_pins(vm, |p| Ok(p.latch(zelf.line)))?;
        zelf.set(!latch, vm)
    }

    /// `mode()` gives the mode (None if never set); `mode(m)` sets it.
    #[pymethod]
    fn mode(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let mode = optional_arg(args, "mode", vm)?;
        if mode.is_some() {
            let mode = parse_mode(mode, vm)?;
            with_pins(vm, |p| p.configure(zelf.line, mode, None, None))?;
            return Ok(vm.ctx.none());
        }
        let mode = with_pins(vm, |p| Ok(p.mode(zelf.line)))?;
        Ok(match mode {
            None => vm.ctx.none(),
            Some(Mode::In) => vm.ctx.new_int(0).into(),
            Some(Mode::Out) => vm.ctx.new_int(1).into(),
            Some(Mode::OpenDrain) => vm.ctx.new_int(2).into(),
        })
    }

    /// `pull()` gives PULL_UP, PULL_DOWN or None; `pull(p)` sets it.
    #[pymethod]
    fn pull(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        let pull = optional_arg(args, "pull", vm)?;
        if pull.is_some() {
            let pull = parse_pull(pull, vm)?;
            with_pins(vm, |p| p.configure(zelf.line, None, pull, None))?;
            return Ok(vm.ctx.none());
        }
        Ok(match with_pins(vm, |p| Ok(p.pull(zelf.line)))? {
            Pull::None => vm.ctx.none(),
            Pull::Up => vm.ctx.new_int(1).into(),
            Pull::Down => vm.ctx.new_int(2).into(),
        })
    }

    /// `irq(handler=None, trigger=IRQ_FALLING | IRQ_RISING, hard=False)`: calls
    /// `handler(pin)` between task steps after each selected edge. No arguments: gives the irq
    /// object unchanged. A None handler disables the interrupt.
    #[pymethod]
    fn irq(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyRef<PyPinIrq>> {
        let unchanged = args.args.is_empty() && args.kwargs.is_empty();
        let a = bind(args, &["handler", "trigger", "hard"], &["priority", "wake"], vm)?;
        let mut a = a.into_iter();
        let handler = a.next().flatten().filter(|h| !vm.is_none(h));
        let trigger = match a.next().flatten() {
            Some(t) => mp_int(&t, vm)?,
            None => IRQ_FALLING | IRQ_RISING,
        };
        let hard = match a.next().flatten() {
            Some(h) => h.try_to_bool(vm)?,
            None => false,
        };
        let s = sched();
        let mut glue = PinSource::of(&s).glue_mut(&s);
        let existing = glue.handlers.get(&zelf.line).and_then(|h| h.irq.clone());
        let irq = existing.unwrap_or_else(|| {
            PyPinIrq { line: zelf.line, flags: Default::default(), trigger: Default::default() }.into_ref(&vm.ctx)
        });
        if unchanged {
            return Ok(irq);
        }
        let edges = if handler.is_some() { trigger_to_edges(trigger) } else { Edges::NONE };
        irq.trigger.set(edges_to_trigger(edges));
        match handler {
            Some(func) => {
                let args = vec![zelf.clone().into()];
                glue.handlers.insert(zelf.line, Handler { func, args, hard, irq: Some(irq.clone()) });
            }
            None => {
                glue.handlers.remove(&zelf.line);
            }
        }
        glue.pins.set_irq(zelf.line, edges).map_err(|e| pin_error(e, vm))?;
        Ok(irq)
    }
}

/// The object `Pin.irq()` returns.
#[pyclass(module = "machine", name = "irq")]
#[derive(Debug, PyPayload)]
pub struct PyPinIrq {
    line: Line,
    /// The edge that fired the last interrupt, as trigger bits.
    flags: std::cell::Cell<i64>,
    /// The edges selected, as trigger bits.
    trigger: std::cell::Cell<i64>,
}

impl Callable for PyPinIrq {
    type Args = FuncArgs;
    /// Runs the handler now, as MicroPython's irq objects do.
    fn call(zelf: &Py<Self>, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let handler = {
            let s = sched();
            let glue = PinSource::of(&s).glue.borrow();
            glue.handlers.get(&zelf.line).map(|h| (h.func.clone(), h.args.clone()))
        };
        match handler {
            Some((func, args)) => func.call(args, vm),
            None => Ok(vm.ctx.none()),
        }
    }
}

#[pyclass(with(Callable))]
impl PyPinIrq {
    /// The edges that caused the last interrupt.
    #[pymethod]
    fn flags(zelf: &Py<Self>) -> i64 {
        zelf.flags.get()
    }

    /// Gives the selected edges; with an argument, selects new ones and gives the old.
    #[pymethod]
    fn trigger(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<i64> {
        let old = zelf.trigger.get();
        if let Some(new) = optional_arg(args, "trigger", vm)? {
            let new = mp_int(&new, vm)?;
            zelf.trigger.set(new);
            with_pins(vm, |p| p.set_irq(zelf.line, trigger_to_edges(new)))?;
        }
        Ok(old)
    }
}

/// `pyb.LED(n)`: one of the board's LEDs (1 to 4 on the simulated board).
#[pyclass(module = "pyb", name = "LED")]
#[derive(Debug, PyPayload)]
pub struct PyLed {
    line: Line,
    n: i64,
}

impl Constructor for PyLed {
    type Args = (PyObjectRef,);
    fn py_new(_cls: &Py<PyType>, (n,): (PyObjectRef,), vm: &VirtualMachine) -> PyResult<Self> {
        let n = mp_int(&n, vm)?;
        let line = with_pins(vm, |p| {
            let line = p.open(&PinId::Led(n))?;
            if p.mode(line).is_none() {
                p.configure(line, Some(Mode::Out), None, Some(false))?;
            }
            Ok(line)
        })?;
        Ok(PyLed { line, n })
    }
}

impl Representable for PyLed {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok(format!("LED({})", zelf.n))
    }
}

impl PyLed {
    /// LEDs 3 and 4 dim (as the pyboard's do, with PWM); 1 and 2 are on or off.
    fn dims(&self) -> bool {
        matches!(self.n, 3 | 4)
    }

    fn set_intensity(&self, value: i64, vm: &VirtualMachine) -> PyResult<()> {
        let value = if self.dims() && value > 0 && value < 255 { value } else if value > 0 { 255 } else { 0 };
        let s = sched();
        let mut glue = PinSource::of(&s).glue_mut(&s);
        glue.intensity.insert(self.line, value);
        glue.pins.write(self.line, value > 0).map_err(|e| pin_error(e, vm))
    }
}

#[pyclass(with(Constructor, Representable))]
impl PyLed {
    /// Turns the LED on, fully.
    #[pymethod]
    fn on(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set_intensity(255, vm)
    }

    /// Turns the LED off.
    #[pymethod]
    fn off(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        zelf.set_intensity(0, vm)
    }

    /// Turns the LED off if it is lit at all, else fully on.
    #[pymethod]
    fn toggle(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<()> {
        let lit = with_pins(vm, |p| Ok(p.latch(zelf.line)))?;
        zelf.set_intensity(if lit { 0 } else { 255 }, vm)
    }

    /// `intensity()` gives the brightness, 0 to 255; `intensity(v)` sets it (LEDs 1 and 2 are
    /// simply on for any v above 0).
    #[pymethod]
    fn intensity(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<Option<i64>> {
        match optional_arg(args, "value", vm)? {
            Some(v) => {
                let v = mp_int(&v, vm)?;
                zelf.set_intensity(v, vm)?;
                Ok(None)
            }
            None => {
                let s = sched();
                let glue = PinSource::of(&s).glue.borrow();
                let lit = glue.pins.latch(zelf.line);
                let stored = glue.intensity.get(&zelf.line).copied();
                Ok(Some(match (lit, stored) {
                    (false, _) => 0,
                    (true, Some(v)) if zelf.dims() => v,
                    (true, _) => 255,
                }))
            }
        }
    }
}

/// `pyb.Switch()`: the board's user button; 1 (True) while pressed.
#[pyclass(module = "pyb", name = "Switch")]
#[derive(Debug, PyPayload)]
pub struct PySwitch {
    line: Line,
}

impl PySwitch {
    fn pressed(&self, vm: &VirtualMachine) -> PyResult<bool> {
        with_pins(vm, |p| p.read(self.line))
    }
}

impl Constructor for PySwitch {
    type Args = ();
    fn py_new(_cls: &Py<PyType>, _args: (), vm: &VirtualMachine) -> PyResult<Self> {
        let line = with_pins(vm, |p| {
            let line = p.open(&PinId::Switch)?;
            if p.mode(line).is_none() {
                p.configure(line, Some(Mode::In), None, None)?;
            }
            Ok(line)
        })?;
        Ok(PySwitch { line })
    }
}

impl Callable for PySwitch {
    type Args = ();
    fn call(zelf: &Py<Self>, _args: (), vm: &VirtualMachine) -> PyResult {
        Ok(vm.ctx.new_bool(zelf.pressed(vm)?).into())
    }
}

impl Representable for PySwitch {
    fn repr_str(_zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok("Switch()".to_owned())
    }
}

#[pyclass(with(Constructor, Callable, Representable))]
impl PySwitch {
    /// True while the switch is pressed.
    #[pymethod]
    fn value(zelf: &Py<Self>, vm: &VirtualMachine) -> PyResult<bool> {
        zelf.pressed(vm)
    }

    /// Calls `fn()` between task steps each time the switch is pressed; None stops it.
    #[pymethod]
    fn callback(zelf: &Py<Self>, func: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        let s = sched();
        let mut glue = PinSource::of(&s).glue_mut(&s);
        let edges = if vm.is_none(&func) {
            glue.handlers.remove(&zelf.line);
            Edges::NONE
        } else {
            glue.handlers.insert(zelf.line, Handler { func, args: Vec::new(), hard: false, irq: None });
            Edges { rising: true, falling: false }
        };
        glue.pins.set_irq(zelf.line, edges).map_err(|e| pin_error(e, vm))
    }
}

/// The Pin class with its constants (`pyb.Pin`'s spellings included).
fn pin_type(vm: &VirtualMachine) -> PyTypeRef {
    let cls = PyPin::make_static_type();
    let none = vm.ctx.none();
    let ints: [(&str, i64); 9] = [
        ("IN", 0),
        ("OUT", 1),
        ("OPEN_DRAIN", 2),
        ("PULL_UP", 1),
        ("PULL_DOWN", 2),
        ("IRQ_FALLING", IRQ_FALLING),
        ("IRQ_RISING", IRQ_RISING),
        ("OUT_PP", 1),
        ("OUT_OD", 2),
    ];
    for (name, value) in ints {
        cls.set_attr(vm.ctx.intern_str(name), vm.ctx.new_int(value).into());
    }
    cls.set_attr(vm.ctx.intern_str("PULL_NONE"), none);
    cls
}

/// A timer that is counting: what it calls, when, and how often.
struct Running {
    /// The Python timer object, passed to the callback (kept alive while it runs, as a
    /// board's timer keeps running when the script drops its object).
    timer: PyObjectRef,
    callback: PyObjectRef,
    /// Called at once from the timer's "interrupt" on a board: here it runs with the other
    /// callbacks, and an exception it raises stops the timer, with MicroPython's message.
    hard: bool,
    /// The next expiry, in nanoseconds on the loop's clock (pyb timers' periods are not whole
    /// microseconds).
    due_ns: u128,
    period_ns: u128,
    periodic: bool,
    /// Tells timers due at the same time apart: the one started first fires first.
    key: usize,
}

/// The running timers as a wake-up source: each expiry queues the timer's callback with the
/// scheduled callbacks, between task steps and during `time.sleep`, on the loop's clock (so
/// virtual time jumps to the next expiry). A periodic timer's next expiry is its last plus
/// its period, not the time its callback ran, so it does not drift.
///
/// The source is armed while a timer runs. It keeps `asyncio.run` sleeping until its next
/// expiry while a main task waits, but it is not something a task waits on: a loop with no
/// main task (`run_until_complete()` with nothing to do) ends, as MicroPython's does, and the
/// timers do not keep the process alive after the script ends.
pub(crate) struct TimerSource {
    id: SourceId,
    running: RefCell<Vec<Running>>,
    next_key: Cell<usize>,
    /// `pyb.Timer(n)` gives the same object each time, as on the pyboard.
    pyb_timers: RefCell<HashMap<i64, PyRef<PyPybTimer>>>,
}

impl TimerSource {
    fn register(registry: &mut Registry) {
        registry.add(Stage::Interrupts, |id| TimerSource {
            id,
            running: RefCell::new(Vec::new()),
            next_key: Cell::new(1),
            pyb_timers: RefCell::new(HashMap::new()),
        });
    }

    fn of(sched: &Scheduler) -> &TimerSource {
        sched.source::<TimerSource>().expect("every scheduler has a timer source")
    }

    /// Stops the timer `timer` if it runs.
    fn stop(&self, timer: &PyObjectRef) {
        self.running.borrow_mut().retain(|r| !r.timer.is(timer));
    }

    /// Starts (or restarts) `timer`: its first expiry is one period from now.
    fn start(&self, sched: &Scheduler, timer: PyObjectRef, callback: PyObjectRef, period_ns: u128, periodic: bool, hard: bool) {
        self.stop(&timer);
        let key = self.next_key.get();
        self.next_key.set(key + 1);
        let due_ns = sched.now_us() as u128 * 1000 + period_ns;
        self.running.borrow_mut().push(Running { timer, callback, hard, due_ns, period_ns, periodic, key });
        sched.arm(self.id);
    }

    fn is_running(&self, timer: &PyObjectRef) -> bool {
        self.running.borrow().iter().any(|r| r.timer.is(timer))
    }
}

impl Source for TimerSource {
    fn wait_io_event(&self, sched: &Scheduler, _vm: &VirtualMachine) -> PyResult<()> {
        let now_ns = sched.now_us() as u128 * 1000;
        let mut fired = Vec::new();
        {
            let mut running = self.running.borrow_mut();
            let mut due: Vec<usize> = (0..running.len()).filter(|&i| running[i].due_ns <= now_ns).collect();
            due.sort_by_key(|&i| (running[i].due_ns, running[i].key));
            for &i in &due {
                let r = &mut running[i];
                let on_error = r.hard.then_some((timer_callback_failed as fn(&Scheduler, usize, &VirtualMachine), r.key));
                fired.push(Callback { func: r.callback.clone(), args: vec![r.timer.clone()], on_error });
                // One expiry per pass: a timer far behind catches up one step at a time.
                r.due_ns += r.period_ns;
            }
            let mut i = 0;
            running.retain(|r| {
                let keep = r.periodic || !due.contains(&i);
                i += 1;
                keep
            });
            if running.is_empty() {
                sched.disarm(self.id);
            }
        }
        if !fired.is_empty() {
            sched.callbacks.extend(sched, fired);
        }
        Ok(())
    }

    fn can_wake(&self) -> bool {
        !self.running.borrow().is_empty()
            && crate::asyncio::core::with_sched(|s| s.main_task.borrow().is_some()).unwrap_or(false)
    }

    fn next_deadline(&self) -> Option<u64> {
        self.running.borrow().iter().map(|r| r.due_ns.div_ceil(1000).min(u64::MAX as u128) as u64).min()
    }
}

/// A hard timer callback raised: the timer stops, and MicroPython's message is printed before
/// the exception.
fn timer_callback_failed(sched: &Scheduler, key: usize, vm: &VirtualMachine) {
    let source = TimerSource::of(sched);
    let failed = {
        let mut running = source.running.borrow_mut();
        let index = running.iter().position(|r| r.key == key);
        index.map(|i| running.remove(i))
    };
    let text = match &failed {
        Some(r) => match r.timer.downcast_ref::<PyPybTimer>() {
            Some(t) => {
                t.callback.replace(None);
                format!("uncaught exception in Timer({}) interrupt handler\n", t.id)
            }
            None => "Uncaught exception in IRQ callback handler\n".to_owned(),
        },
        None => "Uncaught exception in IRQ callback handler\n".to_owned(),
    };
    crate::traceback::write_stderr(vm, &text);
}

/// `machine.Timer.ONE_SHOT`.
const ONE_SHOT: i64 = 1;
/// `machine.Timer.PERIODIC`.
const PERIODIC: i64 = 2;

/// `machine.Timer(id=-1, ...)`: a soft timer (the only kind, id -1, as on MicroPython's ports
/// built on its soft timers), counting in milliseconds.
#[pyclass(module = "machine", name = "Timer")]
#[derive(Debug, PyPayload)]
pub struct PyMachineTimer {
    mode: Cell<i64>,
    period_ms: Cell<u64>,
    callback: RefCell<Option<PyObjectRef>>,
    hard: Cell<bool>,
}

impl PyMachineTimer {
    /// `init`'s keyword arguments; starts the timer if it has a callback.
    fn init_args(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let a = bind(args, &[], &["mode", "callback", "period", "tick_hz", "freq", "hard"], vm)?;
        let mut a = a.into_iter();
        let mode = a.next().flatten().map(|m| mp_int(&m, vm)).transpose()?.unwrap_or(PERIODIC);
        let callback = a.next().flatten();
        let period = a.next().flatten().map(|p| mp_int(&p, vm)).transpose()?;
        let tick_hz = a.next().flatten().map(|t| mp_int(&t, vm)).transpose()?.unwrap_or(1000);
        let freq = a.next().flatten().filter(|f| !vm.is_none(f));
        let hard = a.next().flatten().map(|h| h.try_to_bool(vm)).transpose()?.unwrap_or(false);
        let mut period_ms = zelf.period_ms.get() as f64;
        if let Some(freq) = freq {
            let freq = freq.try_float(vm)?.to_f64();
            period_ms = if freq > 0.0 { (1000.0 / freq).trunc() } else { f64::INFINITY };
        } else if let Some(period) = period {
            if tick_hz == 0 {
                return Err(vm.new_zero_division_error("divide by zero"));
            }
            period_ms = (period as i128 * 1000 / tick_hz as i128) as f64;
        }
        let period_ms = if period_ms < 1.0 {
            1
        } else if period_ms >= (1u64 << 30) as f64 || period_ms.is_nan() {
            return Err(vm.new_value_error("period too large"));
        } else {
            period_ms as u64
        };
        zelf.mode.set(mode);
        zelf.period_ms.set(period_ms);
        zelf.hard.set(hard);
        if let Some(cb) = callback {
            zelf.callback.replace(Some(cb));
        }
        let callback = zelf.callback.borrow().clone().filter(|c| !vm.is_none(c));
        if let Some(callback) = callback {
            let s = sched();
            let periodic = mode == PERIODIC;
            TimerSource::of(&s).start(&s, zelf.to_owned().into(), callback, period_ms as u128 * 1_000_000, periodic, hard);
        }
        Ok(())
    }
}

impl Constructor for PyMachineTimer {
    type Args = FuncArgs;
    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<Self> {
        unreachable!("slot_new builds the timer")
    }

    fn slot_new(cls: PyTypeRef, mut args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        let id = if args.args.is_empty() { -1 } else { mp_int(&args.args.remove(0), vm)? };
        if id != -1 {
            return Err(vm.new_value_error("Timer doesn't exist"));
        }
        let timer = PyMachineTimer {
            mode: Cell::new(PERIODIC),
            period_ms: Cell::new(1000),
            callback: RefCell::new(None),
            hard: Cell::new(false),
        }
        .into_ref_with_type(vm, cls)?;
        if !args.args.is_empty() || !args.kwargs.is_empty() {
            PyMachineTimer::init_args(&timer, args, vm)?;
        }
        Ok(timer.into())
    }
}

impl Representable for PyMachineTimer {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        let mode = if zelf.mode.get() == ONE_SHOT { "ONE_SHOT" } else { "PERIODIC" };
        Ok(format!("Timer(mode={mode}, period={})", zelf.period_ms.get()))
    }
}

#[pyclass(with(Constructor, Representable))]
impl PyMachineTimer {
    /// `init(*, mode=PERIODIC, callback=None, period=-1, tick_hz=1000, freq=None, hard=False)`:
    /// stops the timer and starts it again with these settings (if it has a callback).
    #[pymethod]
    fn init(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let s = sched();
        TimerSource::of(&s).stop(&zelf.clone().into());
        drop(s);
        PyMachineTimer::init_args(&zelf, args, vm)
    }

    /// Stops the timer.
    #[pymethod]
    fn deinit(zelf: PyRef<Self>) {
        let s = sched();
        TimerSource::of(&s).stop(&zelf.into());
    }
}

/// `pyb.Timer(id, ...)`: one of the pyboard's timers 1 to 14, simulated: a counter at the
/// board's timer clock (84 MHz, or 168 MHz for timers 1 and 8-11) divided by the prescaler,
/// that wraps after `period + 1` counts and then calls the callback.
#[pyclass(module = "pyb", name = "Timer")]
#[derive(Debug, PyPayload)]
pub struct PyPybTimer {
    id: i64,
    /// Prescaler and period, once initialised.
    setup: Cell<Option<(u64, u64)>>,
    /// `mode=` (UP, DOWN, CENTER) and `div=`, shown by repr.
    mode: Cell<i64>,
    div: Cell<i64>,
    callback: RefCell<Option<PyObjectRef>>,
    hard: Cell<bool>,
    /// When the counter last started from zero, in microseconds on the loop's clock.
    started_us: Cell<u64>,
}

/// `pyb.Timer.UP`, `DOWN`, `CENTER`: the counter modes (the STM32 HAL's values).
const PYB_UP: i64 = 0;
const PYB_DOWN: i64 = 0x10;
const PYB_CENTER: i64 = 0x20;

impl PyPybTimer {
    fn clock_hz(&self) -> u64 {
        if matches!(self.id, 1 | 8..=11) { 168_000_000 } else { 84_000_000 }
    }

    /// The largest period: timers 2 and 5 have 32-bit counters.
    fn max_period(&self) -> u64 {
        if matches!(self.id, 2 | 5) { 0xffff_ffff } else { 0xffff }
    }

    /// The prescaler and period that divide the timer clock down to `freq` Hz: the smallest
    /// prescaler that makes the period fit, preferring one that divides the clock exactly.
    fn divide_for(&self, freq: &PyObjectRef, vm: &VirtualMachine) -> PyResult<(u64, u64)> {
        let freq = if let Some(f) = freq.downcast_ref::<rustpython_vm::builtins::PyFloat>() {
            f.to_f64()
        } else {
            mp_int(freq, vm)? as f64
        };
        if freq.is_nan() || freq <= 0.0 {
            return Err(vm.new_value_error("must have positive freq"));
        }
        let ticks = (self.clock_hz() as f64 / freq).round().max(1.0);
        let span = self.max_period() as f64 + 1.0;
        let least = (ticks / span).ceil().max(1.0);
        if least > 65536.0 {
            return Err(vm.new_value_error("freq too small"));
        }
        let ticks = ticks as u64;
        let least = least as u64;
        let exact = (least..=65536.min(least.saturating_mul(2))).find(|p| ticks.is_multiple_of(*p));
        let prescaler = exact.unwrap_or(least);
        let period = (ticks / prescaler).clamp(1, self.max_period() + 1);
        Ok((prescaler - 1, period - 1))
    }

    /// The time between two wraps of the counter, in nanoseconds.
    fn period_ns(&self) -> Option<u128> {
        let (prescaler, period) = self.setup.get()?;
        Some((prescaler as u128 + 1) * (period as u128 + 1) * 1_000_000_000 / self.clock_hz() as u128)
    }

    /// Starts counting again with the present settings, calling the callback at each wrap if
    /// there is one.
    fn restart(zelf: &Py<Self>) {
        let s = sched();
        let source = TimerSource::of(&s);
        let obj: PyObjectRef = zelf.to_owned().into();
        source.stop(&obj);
        zelf.started_us.set(s.now_us());
        let callback = zelf.callback.borrow().clone();
        if let (Some(callback), Some(period_ns)) = (callback, zelf.period_ns()) {
            source.start(&s, obj, callback, period_ns.max(1), true, zelf.hard.get());
        }
    }

    fn init_args(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        let names = ["freq", "prescaler", "period", "tick_hz", "mode", "div", "callback", "deadtime", "brk", "hard"];
        let a = bind(args, &[], &names, vm)?;
        let [freq, prescaler, period, _tick_hz, mode, div, callback, _deadtime, _brk, hard]: [Option<PyObjectRef>; 10] =
            a.try_into().expect("ten arguments bound");
        let setup = match (freq, prescaler, period) {
            (Some(freq), _, _) => zelf.divide_for(&freq, vm)?,
            (None, Some(prescaler), Some(period)) => {
                let prescaler = mp_int(&prescaler, vm)? as u64 & 0xffff;
                let period = mp_int(&period, vm)? as u64 & zelf.max_period();
                (prescaler, period)
            }
            _ => return Err(vm.new_type_error("must specify either freq, period, or prescaler and period")),
        };
        let mode = mode.map(|m| mp_int(&m, vm)).transpose()?.unwrap_or(PYB_UP);
        if ![PYB_UP, PYB_DOWN, PYB_CENTER].contains(&mode) {
            return Err(vm.new_value_error(format!("invalid mode ({mode})")));
        }
        let div = div.map(|d| mp_int(&d, vm)).transpose()?.unwrap_or(1);
        let callback = callback.filter(|c| !vm.is_none(c));
        if let Some(cb) = &callback
            && !cb.is_callable()
        {
            return Err(vm.new_value_error("callback must be None or a callable object"));
        }
        zelf.setup.set(Some(setup));
        zelf.mode.set(mode);
        zelf.div.set(if div == 2 || div == 4 { div } else { 1 });
        zelf.hard.set(hard.map(|h| h.try_to_bool(vm)).transpose()?.unwrap_or(true));
        zelf.callback.replace(callback);
        PyPybTimer::restart(zelf);
        Ok(())
    }

    /// A getter-setter of the prescaler or the period.
    fn setting(zelf: &Py<Self>, args: FuncArgs, which: usize, vm: &VirtualMachine) -> PyResult<Option<u64>> {
        let value = optional_arg(args, "value", vm)?;
        let (prescaler, period) = zelf.setup.get().unwrap_or((0, zelf.max_period()));
        match value {
            None => Ok(Some(if which == 0 { prescaler } else { period })),
            Some(v) => {
                let v = mp_int(&v, vm)? as u64;
                let setup = if which == 0 { (v & 0xffff, period) } else { (prescaler, v & zelf.max_period()) };
                zelf.setup.set(Some(setup));
                PyPybTimer::restart(zelf);
                Ok(None)
            }
        }
    }
}

impl Constructor for PyPybTimer {
    type Args = FuncArgs;
    fn py_new(_cls: &Py<PyType>, _args: FuncArgs, _vm: &VirtualMachine) -> PyResult<Self> {
        unreachable!("slot_new builds the timer")
    }

    fn slot_new(_cls: PyTypeRef, mut args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        if args.args.is_empty() {
            return Err(vm.new_type_error("function missing 1 required positional arguments"));
        }
        let id = mp_int(&args.args.remove(0), vm)?;
        if !(1..=14).contains(&id) {
            return Err(vm.new_value_error(format!("Timer({id}) doesn't exist")));
        }
        let s = sched();
        let existing = TimerSource::of(&s).pyb_timers.borrow().get(&id).cloned();
        let timer = match existing {
            Some(t) => t,
            None => {
                let t = PyPybTimer {
                    id,
                    setup: Cell::new(None),
                    mode: Cell::new(PYB_UP),
                    div: Cell::new(1),
                    callback: RefCell::new(None),
                    hard: Cell::new(true),
                    started_us: Cell::new(0),
                }
                .into_ref(&vm.ctx);
                TimerSource::of(&s).pyb_timers.borrow_mut().insert(id, t.clone());
                t
            }
        };
        drop(s);
        if !args.args.is_empty() || !args.kwargs.is_empty() {
            PyPybTimer::init_args(&timer, args, vm)?;
        }
        Ok(timer.into())
    }
}

impl Representable for PyPybTimer {
    fn repr_str(zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        let Some((prescaler, period)) = zelf.setup.get() else { return Ok(format!("Timer({})", zelf.id)) };
        let freq = zelf.clock_hz() / ((prescaler + 1) * (period + 1));
        let mode = match zelf.mode.get() {
            PYB_UP => "UP",
            PYB_DOWN => "DOWN",
            _ => "CENTER",
        };
        Ok(format!("Timer({}, freq={freq}, prescaler={prescaler}, period={period}, mode={mode}, div={})", zelf.id, zelf.div.get()))
    }
}

#[pyclass(with(Constructor, Representable))]
impl PyPybTimer {
    /// `init(*, freq, prescaler, period, mode=UP, div=1, callback=None, deadtime=0, brk=BRK_OFF,
    /// hard=True)`: by frequency, or by prescaler and period.
    #[pymethod]
    fn init(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        PyPybTimer::init_args(&zelf, args, vm)
    }

    /// Stops the timer and forgets its callback.
    #[pymethod]
    fn deinit(zelf: PyRef<Self>) {
        zelf.callback.replace(None);
        zelf.setup.set(None);
        let s = sched();
        TimerSource::of(&s).stop(&zelf.into());
    }

    /// Calls `fun(timer)` at each wrap of the counter; None stops calling.
    #[pymethod]
    fn callback(zelf: PyRef<Self>, fun: PyObjectRef, vm: &VirtualMachine) -> PyResult<()> {
        if vm.is_none(&fun) {
            zelf.callback.replace(None);
            let s = sched();
            TimerSource::of(&s).stop(&zelf.into());
            return Ok(());
        }
        if !fun.is_callable() {
            return Err(vm.new_value_error("callback must be None or a callable object"));
        }
        zelf.callback.replace(Some(fun));
        let obj: PyObjectRef = zelf.clone().into();
        let s = sched();
        let running = TimerSource::of(&s).is_running(&obj);
        drop(s);
        if zelf.setup.get().is_some() && !running {
            PyPybTimer::restart(&zelf);
        } else if running {
            // A new function for a running timer: it keeps its phase.
            let s = sched();
            let source = TimerSource::of(&s);
            for r in source.running.borrow_mut().iter_mut().filter(|r| r.timer.is(&obj)) {
                r.callback = zelf.callback.borrow().clone().expect("set above");
            }
        }
        Ok(())
    }

    /// `freq()` gives the frequency in Hz (an int when whole); `freq(f)` sets it.
    #[pymethod]
    fn freq(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        match optional_arg(args, "value", vm)? {
            Some(f) => {
                let setup = zelf.divide_for(&f, vm)?;
                zelf.setup.set(Some(setup));
                PyPybTimer::restart(&zelf);
                Ok(vm.ctx.none())
            }
            None => {
                let (prescaler, period) = zelf.setup.get().unwrap_or((0, zelf.max_period()));
                let ticks = (prescaler + 1) * (period + 1);
                let source = zelf.clock_hz();
                Ok(if source.is_multiple_of(ticks) {
                    vm.ctx.new_int(source / ticks).into()
                } else {
                    vm.ctx.new_float(source as f64 / ticks as f64).into()
                })
            }
        }
    }

    /// `prescaler()` gives the prescaler; `prescaler(p)` sets it.
    #[pymethod]
    fn prescaler(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<Option<u64>> {
        PyPybTimer::setting(&zelf, args, 0, vm)
    }

    /// `period()` gives the period; `period(p)` sets it.
    #[pymethod]
    fn period(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<Option<u64>> {
        PyPybTimer::setting(&zelf, args, 1, vm)
    }

    /// `counter()` gives the counter's value now; `counter(c)` restarts it (from zero here).
    #[pymethod]
    fn counter(zelf: PyRef<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<Option<u64>> {
        if optional_arg(args, "value", vm)?.is_some() {
            PyPybTimer::restart(&zelf);
            return Ok(None);
        }
        let Some((prescaler, period)) = zelf.setup.get() else { return Ok(Some(0)) };
        let elapsed_us = sched().now_us().saturating_sub(zelf.started_us.get()) as u128;
        let counts = elapsed_us * zelf.clock_hz() as u128 / 1_000_000 / (prescaler as u128 + 1);
        let count = (counts % (period as u128 + 1)) as u64;
        Ok(Some(if zelf.mode.get() == PYB_DOWN { period - count } else { count }))
    }

    /// The frequency of the timer's clock, in Hz.
    #[pymethod]
    fn source_freq(zelf: PyRef<Self>) -> u64 {
        zelf.clock_hz()
    }
}

/// `machine.Signal(pin, invert=False)`: a pin, or any object with a `value` method (a
/// `machine.PinBase` subclass), seen as active or inactive; `invert` makes it active low.
/// `Signal(id, mode, ..., invert=False)` makes the Pin itself, as many boards allow.
#[pyclass(module = "machine", name = "Signal")]
#[derive(Debug, PyPayload)]
pub struct PySignal {
    pin: PyObjectRef,
    invert: bool,
}

impl Constructor for PySignal {
    type Args = FuncArgs;
    fn py_new(_cls: &Py<PyType>, mut args: FuncArgs, vm: &VirtualMachine) -> PyResult<Self> {
        let invert = match args.kwargs.swap_remove("invert") {
            Some(i) => i.try_to_bool(vm)?,
            None => false,
        };
        if args.args.is_empty() {
            return Err(vm.new_type_error(""));
        }
        let first = &args.args[0];
        let is_pin_id = first.downcast_ref::<PyInt>().is_some() || first.downcast_ref::<PyStr>().is_some();
        let pin = if is_pin_id {
            // The pin's own arguments, then the value set the other way round if inverted.
            let value = args.kwargs.swap_remove("value");
            let pin = pin_type(vm).as_object().call(args, vm)?;
            if let Some(v) = value {
                let level = v.try_to_bool(vm)? != invert;
                vm.call_method(&pin, "value", (level,))?;
            }
            pin
        } else {
            if args.args.len() > 1 || !args.kwargs.is_empty() {
                return Err(vm.new_type_error(""));
            }
            args.args.remove(0)
        };
        Ok(PySignal { pin, invert })
    }
}

impl PySignal {
    fn read(&self, vm: &VirtualMachine) -> PyResult<i64> {
        let level = if let Some(pin) = self.pin.downcast_ref::<PyPin>() {
            with_pins(vm, |p| p.read(pin.line))? as i64
        } else {
            mp_int(&vm.call_method(&self.pin, "value", ())?, vm)?
        };
        Ok(level ^ self.invert as i64)
    }

    fn write(&self, active: bool, vm: &VirtualMachine) -> PyResult<()> {
        let level = active != self.invert;
        if let Some(pin) = self.pin.downcast_ref::<PyPin>() {
            with_pins(vm, |p| p.write(pin.line, level))
        } else {
            vm.call_method(&self.pin, "value", (level,)).map(drop)
        }
    }

    fn value_args(&self, args: FuncArgs, most: usize, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        if !args.kwargs.is_empty() {
            return Err(vm.new_type_error("function doesn't take keyword arguments"));
        }
        match args.args.as_slice() {
            [] => Ok(vm.ctx.new_int(self.read(vm)?).into()),
            [v] => {
                self.write(v.clone().try_to_bool(vm)?, vm)?;
                Ok(vm.ctx.none())
            }
            more => Err(vm.new_type_error(format!(
                "function expected at most {most} arguments, got {}",
                more.len() + most - 1
            ))),
        }
    }
}

impl Callable for PySignal {
    type Args = FuncArgs;
    fn call(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        zelf.value_args(args, 1, vm)
    }
}

impl Representable for PySignal {
    fn repr_str(_zelf: &Py<Self>, _vm: &VirtualMachine) -> PyResult<String> {
        Ok("<Signal>".to_owned())
    }
}

#[pyclass(with(Constructor, Callable, Representable))]
impl PySignal {
    /// `value()` gives 1 when the signal is active; `value(x)` makes it active if `x` is true.
    #[pymethod]
    fn value(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
        zelf.value_args(args, 2, vm)
    }

    /// Makes the signal active.
    #[pymethod]
    fn on(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        mp_arity(&args, 0, 0, 1, vm)?;
        zelf.write(true, vm)
    }

    /// Makes the signal inactive.
    #[pymethod]
    fn off(zelf: &Py<Self>, args: FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        mp_arity(&args, 0, 0, 1, vm)?;
        zelf.write(false, vm)
    }
}

/// `machine.PinBase`: the base of pins written in Python; a subclass defines `value([x])`,
/// which `Signal` calls.
#[pyclass(module = "machine", name = "PinBase")]
#[derive(Debug, PyPayload)]
pub struct PyPinBase;

#[pyclass(flags(BASETYPE))]
impl PyPinBase {
    #[pyslot]
    fn slot_new(cls: PyTypeRef, _args: FuncArgs, vm: &VirtualMachine) -> PyResult {
        PyPinBase.into_ref_with_type(vm, cls).map(Into::into)
    }
}

/// The Timer class with its constants.
fn machine_timer_type(vm: &VirtualMachine) -> PyTypeRef {
    let cls = PyMachineTimer::make_static_type();
    cls.set_attr(vm.ctx.intern_str("ONE_SHOT"), vm.ctx.new_int(ONE_SHOT).into());
    cls.set_attr(vm.ctx.intern_str("PERIODIC"), vm.ctx.new_int(PERIODIC).into());
    cls
}

/// pyb's Timer class with its constants.
fn pyb_timer_type(vm: &VirtualMachine) -> PyTypeRef {
    let cls = PyPybTimer::make_static_type();
    for (name, value) in [("UP", PYB_UP), ("DOWN", PYB_DOWN), ("CENTER", PYB_CENTER), ("BRK_OFF", 0), ("BRK_LOW", 1), ("BRK_HIGH", 2)] {
        cls.set_attr(vm.ctx.intern_str(name), vm.ctx.new_int(value).into());
    }
    cls
}

#[rustpython_vm::pymodule(name = "machine")]
pub(crate) mod machine {
    use rustpython_vm::{AsObject, Py, PyResult, VirtualMachine, builtins::PyModule};

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        let _ = super::PyPinIrq::make_static_type();
        let m = module.as_object();
        m.set_attr("Pin", super::pin_type(vm), vm)?;
        m.set_attr("Signal", super::PySignal::make_static_type(), vm)?;
        m.set_attr("PinBase", super::PyPinBase::make_static_type(), vm)?;
        m.set_attr("Timer", super::machine_timer_type(vm), vm)?;
        Ok(())
    }

    /// Waits for the next interrupt, as a board's CPU does: up to a millisecond (a board's
    /// tick), running the pin interrupts, timer callbacks and scheduled callbacks that fall
    /// due meanwhile. On a virtual clock the millisecond passes at once.
    #[pyfunction]
    fn idle(args: rustpython_vm::function::FuncArgs, vm: &VirtualMachine) -> PyResult<()> {
        super::mp_arity(&args, 0, 0, 0, vm)?;
        crate::asyncio::core::sched().block_for(1000, vm)
    }

    use rustpython_vm::class::PyClassImpl;
}

#[rustpython_vm::pymodule(name = "pyb")]
pub(crate) mod pyb {
    use rustpython_vm::{AsObject, Py, PyResult, VirtualMachine, builtins::PyModule, class::PyClassImpl};

    pub(crate) fn module_exec(vm: &VirtualMachine, module: &Py<PyModule>) -> PyResult<()> {
        __module_exec(vm, module);
        let m = module.as_object();
        m.set_attr("Pin", super::pin_type(vm), vm)?;
        m.set_attr("LED", super::PyLed::make_static_type(), vm)?;
        m.set_attr("Switch", super::PySwitch::make_static_type(), vm)?;
        m.set_attr("Timer", super::pyb_timer_type(vm), vm)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn trigger_bits_round_trip() {
        use super::*;
        for t in [0, IRQ_FALLING, IRQ_RISING, IRQ_FALLING | IRQ_RISING] {
            assert_eq!(edges_to_trigger(trigger_to_edges(t)), t);
        }
        assert_eq!(trigger_to_edges(0x10), Edges::NONE);
    }
}
