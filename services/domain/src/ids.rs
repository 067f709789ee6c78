//! Aggregate and process ids: UUIDs in newtypes, so a team id can never be passed
//! where a depot id is wanted. The caller mints them (v4, or v5 from an idempotency
//! key); the domain never generates one.

uuid_id!(
    /// A response team (卫生应急队伍); stream `team-<uuid>`.
    TeamId, field = "team_id",
    example = "7f3c2a9e-4b1d-4e8a-9c2f-1a5b6c7d8e90"
);
uuid_id!(
    /// A supply depot (储备库); stream `depot-<uuid>`.
    DepotId, field = "depot_id",
    example = "0c9e8f2a-61d4-4c3b-8a7e-5f2d1b3c4a6e"
);
uuid_id!(
    /// A facility holding beds: `facility-<uuid>`, or `convertible-<uuid>` for 平急两用.
    FacilityId, field = "facility_id",
    example = "3b8d5e1f-2c4a-4f6b-9e0d-7a1c2b3d4e5f"
);
uuid_id!(
    /// An incident (突发事件); stream `incident-<uuid>`.
    IncidentId, field = "incident_id",
    example = "e4a1b2c3-d5e6-4f70-8a9b-0c1d2e3f4a5b"
);
uuid_id!(
    /// One transfer between two depots, carried by both sides' events.
    TransferId, field = "transfer",
    example = "5d6e7f80-1a2b-4c3d-8e4f-5a6b7c8d9e0f"
);
uuid_id!(
    /// An approved allocation plan that reserves beds and stock.
    PlanId, field = "plan",
    example = "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d"
);
uuid_id!(
    /// One consignment of issued stock on its way to a township, facility or
    /// incident site (配送), from its depot until it is signed for or returned.
    ShipmentId, field = "shipment",
    example = "6e7f8091-2b3c-4d4e-9f50-6b7c8d9e0f1a"
);
