//! What an operator meets when the store is not there: `connect` fails, within
//! seconds, with a message that names the store without its password. Runs
//! everywhere: the "node" is a loopback port where nothing listens.

use std::net::TcpListener;
use std::time::Duration;

use ercs_eventlog::Error;
use ercs_eventlog_kurrentdb::KurrentEventLog;

#[tokio::test]
async fn a_node_that_does_not_answer_is_an_error_naming_it_without_its_password() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        listener.local_addr().expect("an address").port()
    };
    let url = format!("kurrentdb://admin:s3cret@127.0.0.1:{port}?tls=false&maxDiscoverAttempts=2");
    let outcome = tokio::time::timeout(Duration::from_secs(60), KurrentEventLog::connect(&url))
        .await
        .expect("connect gives up within a minute");
    let Err(Error::Storage(message)) = outcome else {
        panic!("connected to nothing?");
    };
    assert!(message.contains("does not answer"), "{message}");
    assert!(
        message.contains(&format!("kurrentdb://admin:…@127.0.0.1:{port}")),
        "{message}"
    );
    assert!(!message.contains("s3cret"), "{message}");
}

#[tokio::test]
async fn a_malformed_connection_string_is_refused_before_any_connection() {
    let Err(Error::Storage(message)) =
        KurrentEventLog::connect("kurrentdb://admin:s3cret@node1:2113?tsl=false").await
    else {
        panic!("a typo was accepted");
    };
    assert!(message.contains("unknown parameter \"tsl\""), "{message}");
    assert!(!message.contains("s3cret"), "{message}");
}
