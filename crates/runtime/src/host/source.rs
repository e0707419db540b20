//! The host as a wake-up source of the loop: the async host calls tasks await, the messages
//! other threads send through a [`Handle`](super::Handle) (`call_soon_threadsafe` calls,
//! stops, interrupts), and the ThreadSafeFlags shared by name.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use rustpython_vm::{AsObject, PyObjectRef, PyPayload, PyRef, PyResult, VirtualMachine, signal::UserSignalSender};

use super::call::PyHostCall;
use super::link::{Link, Message};
use crate::Value;
use crate::asyncio::core::{Scheduler, escapes_loop};
use crate::asyncio::event::PyThreadSafeFlag;
use crate::asyncio::sources::{Registry, Source, SourceId, Stage};
use crate::asyncio::task::{PyTask, Wait};

/// The loop's side of the [`Link`]. It comes after the poller in the loop's order: the calls
/// a notification brings are run in the same pass, once the poll has taken them in. Armed
/// while calls wait to run.
pub(crate) struct HostSource {
    id: SourceId,
    /// What this runtime shares with the host's other threads.
    link: Arc<Link>,
    /// Async host calls that a task awaits; scanned when another thread notifies.
    awaited: RefCell<Vec<PyRef<PyHostCall>>>,
    /// The flag objects `microloop.flag(name)` gave out, one per name.
    named_flags: RefCell<HashMap<String, PyRef<PyThreadSafeFlag>>>,
    /// Calls the host queued with `call_soon_threadsafe`, run at the next pass.
    calls: RefCell<VecDeque<(String, Vec<Value>)>>,
}

impl HostSource {
    /// Adds the host to the scheduler being installed and returns its link to other threads.
    /// `signal` reaches the interpreter between bytecodes, for interrupts.
    pub(crate) fn register(registry: &mut Registry, signal: Option<UserSignalSender>) -> Arc<Link> {
        let link = Link::new(registry.notifier(), signal);
        registry.add(Stage::AfterPoll, |id| HostSource {
            id,
            link: link.clone(),
            awaited: RefCell::new(Vec::new()),
            named_flags: RefCell::new(HashMap::new()),
            calls: RefCell::new(VecDeque::new()),
        });
        link
    }

    pub(super) fn of(sched: &Scheduler) -> &HostSource {
        sched.source::<HostSource>().expect("every scheduler has a host source")
    }

    /// Parks `task` until the host completes `call`.
    pub(super) fn park(&self, task: PyRef<PyTask>, call: PyRef<PyHostCall>) {
        let mut calls = self.awaited.borrow_mut();
        if !calls.iter().any(|c| c.is(&call)) {
            calls.push(call.clone());
        }
        task.set_wait(Wait::Source(self.id, call.into()));
    }

    /// The flag object for `microloop.flag(name)`, shared with the host under that name.
    pub(super) fn named_flag(&self, name: &str, vm: &VirtualMachine) -> PyRef<PyThreadSafeFlag> {
        self.named_flags
            .borrow_mut()
            .entry(name.to_owned())
            .or_insert_with(|| PyThreadSafeFlag::from_shared(self.link.flag(name)).into_ref(&vm.ctx))
            .clone()
    }
}

impl Source for HostSource {
    /// Runs the calls the host queued with `call_soon_threadsafe`, oldest first. A coroutine
    /// one returns becomes a task; an exception goes to the exception handler.
    fn wait_io_event(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        loop {
            let next = self.calls.borrow_mut().pop_front();
            let Some((name, args)) = next else {
                sched.disarm(self.id);
                return Ok(());
            };
            let args: Vec<PyObjectRef> = args.iter().map(|a| a.to_python(vm)).collect();
            let result = resolve_callable(&name, vm).and_then(|f| f.call(args, vm)).and_then(|ret| {
                if ret.downcast_ref::<rustpython_vm::builtins::PyCoroutine>().is_some() {
                    PyTask::spawn(ret, vm)?;
                }
                Ok(())
            });
            let Err(exc) = result else { continue };
            if escapes_loop(&exc, vm) {
                return Err(exc);
            }
            let context = vm.ctx.new_dict();
            let message = vm.ctx.new_str(format!("Exception in callback {name}"));
            let reported = context
                .set_item("message", message.into(), vm)
                .and_then(|_| context.set_item("exception", exc.into(), vm))
                .and_then(|_| sched.call_exception_handler(context.into(), vm));
            if let Err(e) = reported {
                crate::traceback::print_exception(vm, &e, None);
            }
        }
    }

    /// Wakes the tasks whose host calls completed, takes in the messages, and raises a
    /// pending interrupt.
    fn take_notified(&self, sched: &Scheduler, vm: &VirtualMachine) -> PyResult<()> {
        if !self.awaited.borrow().is_empty() {
            // Host futures run no Python, but they are polled outside the borrow all the same.
            let calls = self.awaited.borrow().clone();
            for call in &calls {
                call.drive();
            }
            let mut woken = Vec::new();
            self.awaited.borrow_mut().retain(|call| match call.completed_waiter() {
                Some(task) => {
                    woken.push(task);
                    false
                }
                None => call.has_waiter(),
            });
            for task in woken {
                sched.push_ready(task);
            }
        }
        for message in self.link.take_messages() {
            match message {
                Message::Call(name, args) => {
                    self.calls.borrow_mut().push_back((name, args));
                    sched.arm(self.id);
                }
                Message::Stop => sched.stop.set(true),
            }
        }
        self.link.take_interrupt(vm)
    }

    /// An awaited call, or a handle through which the host may still wake the loop.
    fn can_wake(&self) -> bool {
        !self.awaited.borrow().is_empty() || self.link.has_handles()
    }

    fn reset(&self) {
        let calls = std::mem::take(&mut *self.awaited.borrow_mut());
        for call in &calls {
            // Nobody will await these any more: the host may stop working on them.
            call.abandon();
        }
        drop(calls);
    }

    /// Completion wakes a task without detaching it, so reaching here means the task is being
    /// cancelled: the host hears of it.
    fn cancel_wait(&self, _sched: &Scheduler, task: &PyRef<PyTask>, what: &PyObjectRef) {
        let Some(call) = what.downcast_ref::<PyHostCall>() else { return };
        call.cancel_wait(task);
        self.awaited.borrow_mut().retain(|c| !c.is(call));
    }
}

/// Resolves `name` (a global of `__main__`, or `module.attr` of a module in `sys.modules`).
fn resolve_callable(name: &str, vm: &VirtualMachine) -> PyResult<PyObjectRef> {
    let modules = vm.sys_module.get_attr("modules", vm)?;
    let (module, attr) = match name.rsplit_once('.') {
        Some((m, a)) => (m, a),
        None => ("__main__", name),
    };
    let not_found = || vm.new_name_error(format!("name '{name}' isn't defined"), vm.ctx.new_str(name));
    let module = modules.get_item(module, vm).map_err(|_| not_found())?;
    module.get_attr(&vm.ctx.new_str(attr), vm).map_err(|_| not_found())
}
