//! Streams over Python objects: `Stream(obj)` where `obj` has no descriptor but its own
//! `read`/`readinto`/`readline`/`write` methods, such as a driver written in Python (an
//! `io.IOBase` subclass) or a test double.
//!
//! The steps are those of MicroPython's `Stream` over such an object: `write` hands the bytes to
//! `obj.write` at once when nothing is queued (the object it was given, not a copy) and queues
//! what the object did not take (`None`: it took nothing); `drain` gives the queue to
//! `obj.write` until it is empty; each read first yields to the loop, as MicroPython's
//! `yield queue_read(s)` does, then calls the object, and a `None` answer (nothing available
//! yet) means another pass through the loop. Before each call the object's
//! `ioctl(MP_STREAM_POLL, event)` (MicroPython's poll request, 3) is asked whether it is
//! ready, when it has an `ioctl`; without one the object is simply called (MicroPython would
//! raise AttributeError as soon as it had to wait). The loop cannot sleep on an object the way
//! it sleeps on a descriptor: a task waiting on one is retried at every pass, as MicroPython's
//! poller asks such objects again at every poll. `close()` does nothing; `wait_closed()` calls
//! `obj.close()` when the object has one.

use std::cell::{Cell, RefCell};

use rustpython_vm::{
    AsObject, PyObjectRef, PyResult, VirtualMachine,
    builtins::{PyByteArray, PyBytes},
    function::ArgBytesLike,
    protocol::PyIterReturn,
};

use super::core::{current_task, sched};
use super::stream::OpKind;

/// The object side of a stream: the object and the bytes `write` queued for it.
#[derive(Debug)]
pub(crate) struct ObjectStream {
    obj: PyObjectRef,
    out_buf: RefCell<Vec<u8>>,
}

/// The state of one awaited operation: whether it has yielded once, and what it gathered.
#[derive(Debug, Default)]
pub(crate) struct ObjectOpState {
    yielded: Cell<bool>,
    got: RefCell<Vec<u8>>,
}

/// `ioctl` request asking a stream which of the events in `arg` it is ready for (MicroPython's
/// `MP_STREAM_POLL`), and the two events a stream waits for.
const MP_STREAM_POLL: i32 = 3;
const POLLIN: i32 = 0x001;
const POLLOUT: i32 = 0x004;
/// Error and hang-up: the next call on the object will say what happened.
const POLLERR_HUP: i32 = 0x008 | 0x010;

/// Yields to the loop: the task runs again in the next pass.
fn again(vm: &VirtualMachine) -> PyResult<PyIterReturn> {
    let task = current_task(vm)?;
    sched().push_ready(task);
    Ok(PyIterReturn::Return(vm.ctx.none()))
}

fn done(value: PyObjectRef) -> PyResult<PyIterReturn> {
    Ok(PyIterReturn::StopIteration(Some(value)))
}

/// The bytes of a read's answer; None for `None` (nothing available yet).
fn answer_bytes(value: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Option<Vec<u8>>> {
    if vm.is_none(value) {
        return Ok(None);
    }
    if let Some(b) = value.downcast_ref::<PyBytes>() {
        return Ok(Some(b.as_bytes().to_vec()));
    }
    if let Some(b) = value.downcast_ref::<PyByteArray>() {
        return Ok(Some(b.borrow_buf().to_vec()));
    }
    // A text stream answers str: its UTF-8 bytes.
    let s = value.str(vm)?;
    Ok(Some(s.as_bytes().to_vec()))
}

impl ObjectStream {
    /// An object stream over `obj` if it has the methods of one (`read`, `readinto` or `write`).
    pub(crate) fn new(obj: &PyObjectRef, vm: &VirtualMachine) -> PyResult<Option<Self>> {
        for name in ["read", "readinto", "write"] {
            if vm.get_attribute_opt(obj, name)?.is_some() {
                return Ok(Some(ObjectStream { obj: obj.clone(), out_buf: RefCell::new(Vec::new()) }));
            }
        }
        Ok(None)
    }

    /// `Stream.write(buf)`: to the object at once when nothing is queued, else queued.
    pub(crate) fn write(&self, buf: &ArgBytesLike, vm: &VirtualMachine) -> PyResult<()> {
        let mut rest_from = 0;
        if self.out_buf.borrow().is_empty() {
            let len = buf.borrow_buf().len();
            let ret = vm.call_method(&self.obj, "write", (buf.as_object().to_owned(),))?;
            if !vm.is_none(&ret) {
                let n: usize = ret.try_to_value(vm)?;
                if n >= len {
                    return Ok(());
                }
                rest_from = n;
            }
        }
        self.out_buf.borrow_mut().extend_from_slice(&buf.borrow_buf()[rest_from..]);
        Ok(())
    }

    /// `Stream.wait_closed()`: closes the object, if it can be closed.
    pub(crate) fn close(&self, vm: &VirtualMachine) -> PyResult<()> {
        if vm.get_attribute_opt(&self.obj, "close")?.is_some() {
            vm.call_method(&self.obj, "close", ())?;
        }
        Ok(())
    }

    /// Whether the object is ready for `event`: its `ioctl(MP_STREAM_POLL, event)` answer, as
    /// MicroPython's poller asks it; an object without `ioctl` is always tried.
    fn ready(&self, event: i32, vm: &VirtualMachine) -> PyResult<bool> {
        if vm.get_attribute_opt(&self.obj, "ioctl")?.is_none() {
            return Ok(true);
        }
        let flags: i32 = vm.call_method(&self.obj, "ioctl", (MP_STREAM_POLL, event))?.try_to_value(vm)?;
        Ok(flags & (event | POLLERR_HUP) != 0)
    }

    /// One step of `op`.
    pub(super) fn step(&self, op: &OpKind, state: &ObjectOpState, vm: &VirtualMachine) -> PyResult<PyIterReturn> {
        // Every operation first gives the loop a turn, as MicroPython's do.
        if !state.yielded.replace(true) {
            return again(vm);
        }
        let event = if matches!(op, OpKind::Drain | OpKind::Close) { POLLOUT } else { POLLIN };
        if !matches!(op, OpKind::Drain | OpKind::Close) || !self.out_buf.borrow().is_empty() {
            // Not ready yet: wait in the loop, as a task parked on the poller does.
            if !self.ready(event, vm)? {
                return again(vm);
            }
        }
        match op {
            OpKind::Drain | OpKind::Close => {
                let pending = self.out_buf.borrow().clone();
                if pending.is_empty() {
                    return done(vm.ctx.none());
                }
                // A memoryview of what is queued, as MicroPython's drain passes it.
                let view = vm.ctx.types.memoryview_type.as_object().call((vm.ctx.new_bytes(pending.clone()),), vm)?;
                let ret = vm.call_method(&self.obj, "write", (view,))?;
                if !vm.is_none(&ret) {
                    let n: usize = ret.try_to_value(vm)?;
                    self.out_buf.borrow_mut().drain(..n.min(pending.len()));
                }
                if self.out_buf.borrow().is_empty() { done(vm.ctx.none()) } else { again(vm) }
            }
            OpKind::Read(_) | OpKind::ReadAll => {
                let n = match op {
                    OpKind::Read(n) => *n as isize,
                    _ => -1,
                };
                let n = &n;
                let ret = vm.call_method(&self.obj, "read", (*n,))?;
                match answer_bytes(&ret, vm)? {
                    None => again(vm),
                    // read(-1) gathers until the object reports its end (empty).
                    Some(chunk) if *n < 0 && !chunk.is_empty() => {
                        state.got.borrow_mut().extend_from_slice(&chunk);
                        again(vm)
                    }
                    Some(_) if *n < 0 => done(vm.ctx.new_bytes(state.got.take()).into()),
                    Some(_) => done(ret),
                }
            }
            OpKind::ReadInto(buf) => {
                // The object's answer as it is, None included (MicroPython does not retry).
                done(vm.call_method(&self.obj, "readinto", (buf.clone(),))?)
            }
            OpKind::ReadExactly(n) => {
                let want = n - state.got.borrow().len();
                if want == 0 {
                    return done(vm.ctx.new_bytes(state.got.take()).into());
                }
                let ret = vm.call_method(&self.obj, "read", (want,))?;
                match answer_bytes(&ret, vm)? {
                    None => again(vm),
                    Some(chunk) if chunk.is_empty() => Err(vm.new_exception_empty(vm.ctx.exceptions.eof_error.to_owned())),
                    Some(chunk) => {
                        state.got.borrow_mut().extend_from_slice(&chunk);
                        if state.got.borrow().len() >= *n {
                            done(vm.ctx.new_bytes(state.got.take()).into())
                        } else {
                            again(vm)
                        }
                    }
                }
            }
            OpKind::ReadLine => {
                let ret = vm.call_method(&self.obj, "readline", ())?;
                match answer_bytes(&ret, vm)? {
                    None => again(vm),
                    Some(chunk) => {
                        let ended = chunk.is_empty() || chunk.last() == Some(&b'\n');
                        state.got.borrow_mut().extend_from_slice(&chunk);
                        if ended { done(vm.ctx.new_bytes(state.got.take()).into()) } else { again(vm) }
                    }
                }
            }
        }
    }
}
