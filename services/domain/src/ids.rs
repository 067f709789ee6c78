//! Aggregate and process ids: UUIDs in newtypes, so a team id can never be passed
//! where a depot id is wanted. The caller mints them (v4, or v5 from an idempotency
//! key); the domain never generates one.

uuid_id!(
    /// A response team (卫生应急队伍); stream `team-<uuid>`.
    TeamId, field = "team_id"
);
uuid_id!(
    /// A supply depot (储备库); stream `depot-<uuid>`.
    DepotId, field = "depot_id"
);
uuid_id!(
    /// A facility holding beds: `facility-<uuid>`, or `convertible-<uuid>` for 平急两用.
    FacilityId, field = "facility_id"
);
uuid_id!(
    /// An incident (突发事件); stream `incident-<uuid>`.
    IncidentId, field = "incident_id"
);
uuid_id!(
    /// One transfer between two depots, carried by both sides' events.
    TransferId, field = "transfer"
);
uuid_id!(
    /// An approved allocation plan that reserves beds and stock.
    PlanId, field = "plan"
);
