// Encodes ChirpStack's published uplink event example (uplink.json, from
// ChirpStack's documentation: integrations/events.md, "up") with ChirpStack's
// own JavaScript API, and prints the protobuf bytes in hex. The Go side
// (TestChirpStackProtobufExample) decodes them with fieldmint's declaration
// of the message and compares with the JSON.
const integration = require("@chirpstack/chirpstack-api/integration/integration_pb");
const gw = require("@chirpstack/chirpstack-api/gw/gw_pb");
const { Timestamp } = require("google-protobuf/google/protobuf/timestamp_pb");
const fs = require("fs");
const path = require("path");

const ex = JSON.parse(fs.readFileSync(path.join(__dirname, "uplink.json"), "utf8"));

const time = new Timestamp();
const m = /^(.*\d)\.(\d+)(Z|[+-]\d\d:\d\d)$/.exec(ex.time);
time.setSeconds(Math.floor(Date.parse(m[1] + m[3]) / 1000));
time.setNanos(Number(m[2].padEnd(9, "0")));

const di = new integration.DeviceInfo();
di.setTenantId(ex.deviceInfo.tenantId);
di.setTenantName(ex.deviceInfo.tenantName);
di.setApplicationId(ex.deviceInfo.applicationId);
di.setApplicationName(ex.deviceInfo.applicationName);
di.setDeviceProfileId(ex.deviceInfo.deviceProfileId);
di.setDeviceProfileName(ex.deviceInfo.deviceProfileName);
di.setDeviceName(ex.deviceInfo.deviceName);
di.setDevEui(ex.deviceInfo.devEui);
for (const [k, v] of Object.entries(ex.deviceInfo.tags)) di.getTagsMap().set(k, v);

const ev = new integration.UplinkEvent();
ev.setDeduplicationId(ex.deduplicationId);
ev.setTime(time);
ev.setDeviceInfo(di);
ev.setDevAddr(ex.devAddr);
ev.setDr(ex.dr);
ev.setFPort(ex.fPort);
ev.setData(Buffer.from(ex.data, "base64"));
for (const r of ex.rxInfo) {
  const rx = new gw.UplinkRxInfo();
  rx.setGatewayId(r.gatewayId);
  rx.setUplinkId(r.uplinkId);
  rx.setRssi(r.rssi);
  rx.setSnr(r.snr);
  rx.setContext(Buffer.from(r.context, "base64"));
  for (const [k, v] of Object.entries(r.metadata)) rx.getMetadataMap().set(k, v);
  ev.addRxInfo(rx);
}
const lora = new gw.LoraModulationInfo();
lora.setBandwidth(ex.txInfo.modulation.lora.bandwidth);
lora.setSpreadingFactor(ex.txInfo.modulation.lora.spreadingFactor);
lora.setCodeRate(gw.CodeRate[ex.txInfo.modulation.lora.codeRate]);
const mod = new gw.Modulation();
mod.setLora(lora);
const tx = new gw.UplinkTxInfo();
tx.setFrequency(ex.txInfo.frequency);
tx.setModulation(mod);
ev.setTxInfo(tx);

process.stdout.write(Buffer.from(ev.serializeBinary()).toString("hex") + "\n");
